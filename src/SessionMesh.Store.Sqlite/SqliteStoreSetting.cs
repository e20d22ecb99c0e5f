namespace SessionMesh.Store.Sqlite;

/// <summary>Reads the store setting of <c>serve</c> (<c>--store</c>, <c>SESSION_MESH_STORE</c>, <c>Server:Store</c>) for SQLite.</summary>
public static class SqliteStoreSetting
{
    /// <summary>What a store setting naming PostgreSQL is refused with.</summary>
    public const string PostgresNotAvailable = "The PostgreSQL store is not available in this build yet; use --store sqlite:PATH.";

    /// <summary>
    /// The SQLite data source named by <paramref name="setting"/>: <c>sqlite:PATH</c>, a SQLite connection string
    /// (<c>Data Source=...</c>) or a file path; empty means <c>session-mesh.db</c> in <paramref name="dataDirectory"/>.
    /// Any other connection string is taken for PostgreSQL, which this build does not have, and refused
    /// (<see cref="InvalidOperationException"/>) rather than used as a file name.
    /// </summary>
    public static string ToDataSource(string? setting, string dataDirectory)
    {
        var store = setting?.Trim();
        return string.IsNullOrEmpty(store) ? Path.Combine(dataDirectory, SqliteMeshStore.DefaultFileName)
            : store.StartsWith("sqlite:", StringComparison.OrdinalIgnoreCase) ? store["sqlite:".Length..]
            : store.StartsWith("postgres", StringComparison.OrdinalIgnoreCase) || (store.Contains('=', StringComparison.Ordinal) && !store.Contains("Data Source", StringComparison.OrdinalIgnoreCase))
                ? throw new InvalidOperationException(PostgresNotAvailable)
            : store;
    }
}
