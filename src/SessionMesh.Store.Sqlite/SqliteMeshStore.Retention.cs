using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace SessionMesh.Store.Sqlite;

/// <summary>
/// Retention: events and completed commands past their age or beyond their size go, oldest first, a few hundred rows
/// per write so other writers are never held up for long; then the file shrinks back. The file is in
/// <c>auto_vacuum=INCREMENTAL</c> mode, so deleted rows leave free pages that <c>PRAGMA incremental_vacuum</c> moves
/// to the end of the file and cuts off; a <c>wal_checkpoint(TRUNCATE)</c> then writes that into the database file and
/// empties the WAL.
/// </summary>
/// <remarks>
/// A completed command whose fields an event still reads (<see cref="CommandEventData"/>) stays until that event goes:
/// event sizes count the payloads they carry, so the event budget bounds those commands too.
/// </remarks>
public sealed partial class SqliteMeshStore
{
    /// <summary>Rows deleted per write.</summary>
    private const int RetentionChunk = 500;

    /// <summary>Pages moved per <c>incremental_vacuum</c>, per hold of the write lock (16 MiB with 4 KiB pages).</summary>
    private const int VacuumPages = 4096;

    /// <summary>Acked, rejected, failed or expired; written exactly as in ix_commands_completed's WHERE, so SQLite can use it.</summary>
    private const string Completed = "commands.status IN ('acked', 'rejected', 'failed', 'expired')";

    private const string SelectFirstYoungEvent = "SELECT revision FROM events WHERE at >= @cutoff ORDER BY revision LIMIT 1";

    private const string SelectNewestEvent = "SELECT MAX(revision) FROM events";

    // The newest event at which the sizes of it and every newer event add up past the budget: it and older ones go.
    private const string SelectEventBytesCut = """
        SELECT revision FROM (SELECT revision, SUM(size) OVER (ORDER BY revision DESC) AS newer FROM events)
        WHERE newer > @max_bytes
        ORDER BY revision DESC
        LIMIT 1
        """;

    private const string DeleteEventsChunk = """
        DELETE FROM events WHERE revision IN (
            SELECT revision FROM events WHERE revision <= @through ORDER BY revision LIMIT @limit)
        """;

    // As for events, over completed commands, the most recently completed first.
    private const string SelectCommandBytesCut = $"""
        SELECT completed_at, command_id FROM (
            SELECT commands.completed_at, commands.command_id,
                   SUM(commands.size) OVER (ORDER BY commands.completed_at DESC, commands.command_id DESC) AS newer
            FROM commands WHERE {Completed})
        WHERE newer > @max_bytes
        ORDER BY completed_at DESC, command_id DESC
        LIMIT 1
        """;

    private const string DeleteCompletedCommandsChunk = $"""
        DELETE FROM commands WHERE command_id IN (
            SELECT commands.command_id FROM commands
            WHERE {Completed}
              AND (commands.completed_at < @completed_before OR (commands.completed_at, commands.command_id) <= (@cut_at, @cut_id))
              AND NOT EXISTS (SELECT 1 FROM events WHERE events.command_id = commands.command_id)
            ORDER BY commands.completed_at, commands.command_id
            LIMIT @limit)
        """;

    private readonly SemaphoreSlim _retentionLock = new(1, 1);

    /// <inheritdoc />
    public async Task<RetentionResult> ApplyRetentionAsync(RetentionPolicy policy, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(policy);
        await _retentionLock.WaitAsync(cancellationToken);
        try
        {
            var before = SizeOnDisk();
            var through = await ReadAsync(db => EventsThroughAsync(db, policy, cancellationToken), cancellationToken);
            var events = through > 0
                ? await DeleteInChunksAsync(DeleteEventsChunk, command => command.Bind("@through", through), cancellationToken)
                : 0;
            var (cutAt, cutId) = await ReadAsync(async db =>
            {
                await using var command = db.Command(SelectCommandBytesCut).Bind("@max_bytes", policy.MaxCommandBytes);
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                return await reader.ReadAsync(cancellationToken) ? ((long?)reader.GetInt64(0), reader.GetString(1)) : (null, null);
            }, cancellationToken);
            var commands = await DeleteInChunksAsync(DeleteCompletedCommandsChunk, command => command
                .Bind("@completed_before", policy.Now - policy.MaxCommandAge).Bind("@cut_at", cutAt).Bind("@cut_id", cutId), cancellationToken);
            if (events + commands > 0)
            {
                await ReclaimSpaceAsync(cancellationToken);
            }
            return new RetentionResult(events, events > 0 ? through : 0, commands, before, SizeOnDisk());
        }
        finally
        {
            _retentionLock.Release();
        }
    }

    /// <summary>Gives free pages back to the file system and empties the WAL. Never holds the write lock for long.</summary>
    internal async Task ReclaimSpaceAsync(CancellationToken cancellationToken)
    {
        long? lastFree = null;
        var done = false;
        while (!done)
        {
            // Pragmas run outside any batch; each round takes the write lock anew.
            done = await _group.OutsideBatchAsync(async () =>
            {
                var db = new SqliteDb(await GetWriterAsync(cancellationToken), null);
                long free;
                await using (var count = db.Command("PRAGMA freelist_count"))
                {
                    free = await count.ScalarInt64Async(cancellationToken);
                }
                // A file not in incremental mode keeps its free pages: stop when a round moved none.
                if (free == 0 || free == lastFree)
                {
                    await CheckpointAsync(db, cancellationToken);
                    return true;
                }
                lastFree = free;
                await using var vacuum = db.Command($"PRAGMA incremental_vacuum({VacuumPages})");
                await vacuum.ExecuteNonQueryAsync(cancellationToken);
                return false;
            }, cancellationToken);
        }
    }

    /// <summary>The database file and its WAL, in bytes.</summary>
    internal long SizeOnDisk()
    {
        var file = new FileInfo(FilePath);
        var wal = new FileInfo(FilePath + "-wal");
        return (file.Exists ? file.Length : 0) + (wal.Exists ? wal.Length : 0);
    }

    /// <summary>The highest revision retention removes (0 for none): the widest of the count, age and size bounds.</summary>
    private static async Task<long> EventsThroughAsync(SqliteDb db, RetentionPolicy policy, CancellationToken cancellationToken)
    {
        long latest;
        await using (var command = db.Command(SelectLatestRevision))
        {
            latest = await command.ScalarInt64Async(cancellationToken);
        }
        var through = latest - policy.MaxEvents;
        await using (var command = db.Command(SelectFirstYoungEvent).Bind("@cutoff", policy.Now - policy.MaxEventAge))
        {
            if (await command.ScalarNullableInt64Async(cancellationToken) is { } young)
            {
                through = Math.Max(through, young - 1);
            }
            else
            {
                // Every event is past the age.
                await using var newest = db.Command(SelectNewestEvent);
                through = Math.Max(through, await newest.ScalarInt64Async(cancellationToken));
            }
        }
        await using (var command = db.Command(SelectEventBytesCut).Bind("@max_bytes", policy.MaxEventBytes))
        {
            through = Math.Max(through, await command.ScalarNullableInt64Async(cancellationToken) ?? 0);
        }
        return Math.Max(0, through);
    }

    /// <summary>Runs a chunked DELETE (<c>LIMIT @limit</c>) in writes of its own until a chunk comes back short.</summary>
    private async Task<int> DeleteInChunksAsync(string sql, Func<SqliteCommand, SqliteCommand> bind, CancellationToken cancellationToken)
    {
        var total = 0;
        while (true)
        {
            int deleted;
            await using (var tx = (SqliteWriteTransaction)await BeginWriteAsync(cancellationToken))
            {
                deleted = await tx.WriteAsync(async db =>
                {
                    await using var command = bind(db.Command(sql)).Bind("@limit", RetentionChunk);
                    return await command.ExecuteNonQueryAsync(cancellationToken);
                });
                await tx.CommitAsync(cancellationToken);
            }
            total += deleted;
            if (deleted < RetentionChunk)
            {
                return total;
            }
        }
    }

    /// <summary>
    /// Writes the WAL into the database file (cutting it to its new size) and empties the WAL. Readers still on an
    /// older snapshot are waited for briefly only; what they hold back is written by a later checkpoint.
    /// </summary>
    private async Task CheckpointAsync(SqliteDb db, CancellationToken cancellationToken)
    {
        await using (var wait = db.Command("PRAGMA busy_timeout=200"))
        {
            await wait.ExecuteNonQueryAsync(cancellationToken);
        }
        try
        {
            await using var checkpoint = db.Command("PRAGMA wal_checkpoint(TRUNCATE)");
            await using var reader = await checkpoint.ExecuteReaderAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken) && reader.GetInt64(0) != 0)
            {
                LogCheckpointBusy(_logger);
            }
        }
        finally
        {
            await using var restore = db.Command("PRAGMA busy_timeout=5000");
            await restore.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    /// <summary>
    /// Puts a file created before incremental vacuum into that mode: SQLite takes the setting only on a file without
    /// tables, or through one VACUUM (a rewrite of the whole file, once). Failing it (no room for the copy) is not fatal:
    /// the store works as before and tries again at the next start.
    /// </summary>
    private async Task EnableIncrementalVacuumAsync(SqliteDb db, CancellationToken cancellationToken)
    {
        await using var mode = db.Command("PRAGMA auto_vacuum");
        if (await mode.ScalarInt64Async(cancellationToken) == 2)
        {
            return;
        }
        LogVacuuming(_logger, FilePath);
        try
        {
            await using var vacuum = db.Command("PRAGMA auto_vacuum=INCREMENTAL; VACUUM;");
            await vacuum.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (SqliteException ex)
        {
            LogVacuumFailed(_logger, ex, FilePath);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Readers held back the WAL checkpoint; the next one finishes it")]
    private static partial void LogCheckpointBusy(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Rewriting {File} once so that retention can shrink it (auto_vacuum=INCREMENTAL)")]
    private static partial void LogVacuuming(ILogger logger, string file);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not rewrite {File} for incremental vacuum; retention frees space inside the file but cannot shrink it until this succeeds at a later start")]
    private static partial void LogVacuumFailed(ILogger logger, Exception exception, string file);
}
