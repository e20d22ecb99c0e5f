using Npgsql;

namespace SessionMesh.Tests.Postgres;

/// <summary>
/// A fresh database of its own on the test PostgreSQL server, dropped when disposed, so PostgreSQL tests run in
/// parallel. The server is the one <c>./test.sh</c> starts (<c>.ci/postgres.sh</c>), named by
/// <see cref="ServerVariable"/>; without it, or when it does not answer, creating one fails with a message saying so:
/// a PostgreSQL test never passes or skips without PostgreSQL.
/// </summary>
public sealed class PostgresTestDatabase : IAsyncDisposable
{
    /// <summary>The environment variable with a superuser connection string of the test server.</summary>
    public const string ServerVariable = "SESSION_MESH_TEST_POSTGRES";

    private readonly string _adminConnectionString;

    private PostgresTestDatabase(string adminConnectionString, string name, string connectionString)
    {
        _adminConnectionString = adminConnectionString;
        Name = name;
        ConnectionString = connectionString;
    }

    /// <summary>The database's name.</summary>
    public string Name { get; }

    /// <summary>A connection string to the database.</summary>
    public string ConnectionString { get; }

    /// <summary>Creates an empty database on the test server, or on the server of <paramref name="adminConnectionString"/>.</summary>
    public static async Task<PostgresTestDatabase> CreateAsync(CancellationToken cancellationToken, string? adminConnectionString = null)
    {
        var admin = adminConnectionString ?? Environment.GetEnvironmentVariable(ServerVariable);
        if (string.IsNullOrWhiteSpace(admin))
        {
            throw new InvalidOperationException(
                $"{ServerVariable} is not set, so there is no PostgreSQL to test against: run the tests through ./test.sh, " +
                "which starts a throwaway server (.ci/postgres.sh start), or set it to a superuser connection string.");
        }
        var name = "session_mesh_test_" + Guid.NewGuid().ToString("N");
        try
        {
            await using var connection = new NpgsqlConnection(admin);
            await connection.OpenAsync(cancellationToken);
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await create.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (NpgsqlException ex)
        {
            throw new InvalidOperationException($"The test PostgreSQL server ({ServerVariable}) did not answer: {ex.Message}", ex);
        }
        var builder = new NpgsqlConnectionStringBuilder(admin) { Database = name, Pooling = true };
        return new PostgresTestDatabase(admin, name, builder.ConnectionString);
    }

    /// <summary>Runs one SQL statement against the database, returning its first column of the first row.</summary>
    public async Task<object?> ScalarAsync(string sql, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync(cancellationToken);
    }

    /// <summary>Drops the database, closing what is still connected to it.</summary>
    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(_adminConnectionString);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {Name} WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }
}
