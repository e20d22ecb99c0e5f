namespace SessionMesh.Store.Sqlite;

/// <summary>Reads the store setting of <c>serve</c> (<c>--store</c>, <c>SESSION_MESH_STORE</c>, <c>Server:Store</c>) for SQLite.</summary>
public static class SqliteStoreSetting
{
    /// <summary>What a store setting that is neither SQLite nor a PostgreSQL connection string is refused with.</summary>
    public const string PostgresNotAvailable =
        "The store setting is not a SQLite store; a PostgreSQL store is a connection string: --store \"Host=HOST;Database=DB;Username=USER\".";

    /// <summary>
    /// The SQLite data source named by <paramref name="setting"/>: <c>sqlite:PATH</c>, a SQLite connection string
    /// (<c>Data Source=...</c>) or a file path; empty means <c>session-mesh.db</c> in <paramref name="dataDirectory"/>.
    /// Any other connection string or URI is taken for a PostgreSQL setting that is not for this store (a PostgreSQL
    /// connection string goes to the PostgreSQL store before this is asked) and refused
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
