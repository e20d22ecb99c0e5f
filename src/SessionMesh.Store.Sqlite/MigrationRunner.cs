using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace SessionMesh.Store.Sqlite;

/// <summary>Applies the pending <see cref="Migrations"/>, each in its own immediate transaction.</summary>
internal static partial class MigrationRunner
{
    private const string SelectApplied = "SELECT COUNT(*) FROM schema_migrations WHERE version = @version";
    private const string SelectLatest = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations";
    private const string InsertApplied = """
        INSERT INTO schema_migrations (version, name, applied_at)
        VALUES (@version, @name, CAST(unixepoch('subsec') * 1000 AS INTEGER))
        """;

    public static async Task RunAsync(SqliteConnection connection, ILogger logger, CancellationToken cancellationToken)
    {
        var db = new SqliteDb(connection, null);
        await using (var create = db.Command(Migrations.CreateHistoryTable))
        {
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        var known = Migrations.All[^1].Version;
        await using (var latest = db.Command(SelectLatest))
        {
            var current = await latest.ScalarInt64Async(cancellationToken);
            if (current > known)
            {
                throw new InvalidOperationException(
                    $"The database schema is at version {current}, newer than this build knows ({known}). Upgrade session-mesh.");
            }
        }

        foreach (var migration in Migrations.All)
        {
            if (await ApplyAsync(connection, migration, cancellationToken))
            {
                LogApplied(logger, migration.Version, migration.Name);
            }
        }
    }

    /// <summary>Applies one step unless it was applied before; true when it ran now.</summary>
    private static async Task<bool> ApplyAsync(SqliteConnection connection, Migrations.Migration migration, CancellationToken cancellationToken)
    {
        // The check runs inside the immediate transaction, so another process migrating the same
        // file at the same time cannot apply the step twice.
        await using var transaction = connection.BeginTransaction(deferred: false);
        var db = new SqliteDb(connection, transaction);
        await using (var applied = db.Command(SelectApplied).Bind("@version", migration.Version))
        {
            if (await applied.ScalarInt64Async(cancellationToken) > 0)
            {
                return false;
            }
        }
        await using (var script = db.Command(migration.Sql))
        {
            await script.ExecuteNonQueryAsync(cancellationToken);
        }
        await using (var record = db.Command(InsertApplied).Bind("@version", migration.Version).Bind("@name", migration.Name))
        {
            await record.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Applied schema migration {Version} ({Name})")]
    private static partial void LogApplied(ILogger logger, int version, string name);
}
