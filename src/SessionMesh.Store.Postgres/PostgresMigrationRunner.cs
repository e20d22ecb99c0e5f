using System.Globalization;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace SessionMesh.Store.Postgres;

/// <summary>
/// Applies <see cref="PostgresMigrations.All"/> that the database has not recorded yet, each in its own transaction,
/// holding the session advisory lock <see cref="PostgresMeshStore.MigrationLockKey"/> throughout: replicas that start
/// together wait for the first, then find nothing left to do.
/// </summary>
internal static partial class PostgresMigrationRunner
{
    public static async Task RunAsync(NpgsqlConnection connection, ILogger logger, CancellationToken cancellationToken)
    {
        await ExecuteAsync(connection, null, $"SELECT pg_advisory_lock({PostgresMeshStore.MigrationLockKey.ToString(CultureInfo.InvariantCulture)})", cancellationToken);
        try
        {
            await ExecuteAsync(connection, null, PostgresMigrations.CreateHistoryTable, cancellationToken);
            var applied = new HashSet<int>();
            await using (var select = new NpgsqlCommand("SELECT version FROM schema_migrations", connection))
            await using (var reader = await select.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    applied.Add(reader.GetInt32(0));
                }
            }
            foreach (var migration in PostgresMigrations.All.Where(m => !applied.Contains(m.Version)))
            {
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                await ExecuteAsync(connection, transaction, migration.Sql, cancellationToken);
                await using (var record = new NpgsqlCommand(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (@version, @name, @applied_at)", connection, transaction))
                {
                    record.Bind("@version", migration.Version).Bind("@name", migration.Name).Bind("@applied_at", DateTimeOffset.UtcNow);
                    await record.ExecuteNonQueryAsync(cancellationToken);
                }
                await transaction.CommitAsync(cancellationToken);
                LogApplied(logger, migration.Version, migration.Name);
            }
        }
        finally
        {
            await ExecuteAsync(connection, null, $"SELECT pg_advisory_unlock({PostgresMeshStore.MigrationLockKey.ToString(CultureInfo.InvariantCulture)})", CancellationToken.None);
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Applied PostgreSQL schema migration {Version} ({Name})")]
    private static partial void LogApplied(ILogger logger, int version, string name);
}
