using Npgsql;

namespace SessionMesh.Store.Postgres;

/// <summary>Reads the store setting of <c>serve</c> (<c>--store</c>, <c>SESSION_MESH_STORE</c>, <c>Server:Store</c>) for PostgreSQL.</summary>
public static class PostgresStoreSetting
{
    /// <summary>
    /// True when <paramref name="setting"/> names a PostgreSQL database: an Npgsql connection string with a
    /// <c>Host</c> (<c>Host=db;Database=mesh;Username=mesh</c>). Anything else is for the SQLite store.
    /// </summary>
    public static bool IsPostgres(string? setting)
    {
        var store = setting?.Trim();
        if (string.IsNullOrEmpty(store) || !store.Contains('=', StringComparison.Ordinal)
            || store.StartsWith("sqlite:", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        try
        {
            return !string.IsNullOrEmpty(new NpgsqlConnectionStringBuilder(store).Host);
        }
        catch (ArgumentException)
        {
            // A key Npgsql does not know (a SQLite "Data Source=..." string, say): not PostgreSQL.
            return false;
        }
    }
}
