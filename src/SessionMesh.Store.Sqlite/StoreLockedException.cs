namespace SessionMesh.Store.Sqlite;

/// <summary>Another server already uses this SQLite store (its lock file is held).</summary>
/// <remarks>
/// An <see cref="InvalidOperationException"/>, so a host that knows no store (the server) reports it as the
/// one-line start-up failure it reports every other bad setting as.
/// </remarks>
public sealed class StoreLockedException(string message) : InvalidOperationException(message);
