namespace SessionMesh.Store.Sqlite;

/// <summary>
/// The store's files hold every key hash, agent and command: only the user running the server may read them. A
/// directory the store creates is 0700; the database is created 0600 before SQLite opens it, so SQLite gives its
/// <c>-wal</c> and <c>-shm</c> files the same mode; files left by an older version are tightened at open. Unix only:
/// on Windows the directory's ACL decides.
/// </summary>
internal static class OwnerOnlyFiles
{
    public const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    public const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Creates <paramref name="directory"/> (and missing parents) owner-only; an existing one is left as it is.</summary>
    public static void CreateDirectory(string directory)
    {
        if (OperatingSystem.IsWindows() || Directory.Exists(directory))
        {
            Directory.CreateDirectory(directory);
            return;
        }
        Directory.CreateDirectory(directory, DirectoryMode);
    }

    /// <summary>Creates the database file owner-only when missing, and makes it and its companions owner-only when present.</summary>
    public static void PrepareDatabase(string databasePath)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        try
        {
            if (!File.Exists(databasePath))
            {
                using var created = new FileStream(databasePath, new FileStreamOptions
                {
                    Mode = System.IO.FileMode.CreateNew,
                    Access = FileAccess.Write,
                    UnixCreateMode = FileMode,
                });
            }
            foreach (var path in new[] { databasePath, databasePath + "-wal", databasePath + "-shm", databasePath + "-journal", databasePath + ".lock" })
            {
                if (File.Exists(path) && (File.GetUnixFileMode(path) & ~FileMode) != 0)
                {
                    File.SetUnixFileMode(path, FileMode);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A path SQLite cannot use either (a directory, no permission, a file of another user): opening it says why.
        }
    }
}
