using Microsoft.Data.Sqlite;

namespace SessionMesh.Tests.Infrastructure;

/// <summary>Plain SQL on a store's database file, beside the store: how a test looks at (or tampers with) what it wrote.</summary>
public static class RawSqlite
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A connection of its own to <paramref name="path"/> (no pooling, so disposing it closes the file).</summary>
    public static async Task<SqliteConnection> OpenAsync(string path)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        await connection.OpenAsync(Ct);
        return connection;
    }

    public static async Task ExecuteAsync(SqliteConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(Ct);
    }

    public static async Task<T> ScalarAsync<T>(SqliteConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (T)(await command.ExecuteScalarAsync(Ct))!;
    }
}
