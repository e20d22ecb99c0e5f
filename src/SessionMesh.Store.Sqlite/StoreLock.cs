namespace SessionMesh.Store.Sqlite;

/// <summary>
/// Keeps a second <c>serve</c> off a SQLite store that one already uses: it would run migrations and extend
/// leases under the first one's feet. An exclusive lock on <c>&lt;database&gt;.lock</c>, held for the server's lifetime
/// and released by the OS if the process dies.
/// </summary>
internal sealed class StoreLock : IDisposable
{
    private readonly FileStream _file;

    private StoreLock(FileStream file) => _file = file;

    public static StoreLock Acquire(string databasePath)
    {
        var path = databasePath + ".lock";
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = OwnerOnlyFiles.FileMode;
            }
            return new StoreLock(new FileStream(path, options));
        }
        catch (IOException)
        {
            throw new StoreLockedException($"Another session-mesh server is using {databasePath} (locked by {path}); stop it, or give this one its own --data-dir or --store.");
        }
    }

    public void Dispose() => _file.Dispose();
}
