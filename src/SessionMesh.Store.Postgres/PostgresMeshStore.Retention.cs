using Npgsql;

namespace SessionMesh.Store.Postgres;

/// <summary>
/// Retention: events and completed commands past their age or beyond their size go, oldest first, a few hundred rows
/// per write so other writers (on every replica) are never held up for long. PostgreSQL's autovacuum gives the space
/// back for reuse; the sizes reported are the database's (<c>pg_database_size</c>).
/// </summary>
public sealed partial class PostgresMeshStore
{
    /// <summary>Rows deleted per write.</summary>
    private const int RetentionChunk = 500;

    private const string Completed = "commands.status IN ('acked', 'rejected', 'failed', 'expired')";

    private const string SelectDatabaseSize = "SELECT pg_database_size(current_database())";

    // The newest event past the age, the newest beyond the count, the newest at which the sizes of it and every newer
    // event add up past the budget: it and older ones go.
    private const string SelectEventsThrough = """
        SELECT GREATEST(
            COALESCE((SELECT MAX(revision) FROM events WHERE at < @cutoff), 0),
            (SELECT value FROM mesh_counters WHERE name = 'revision') - @max_events,
            COALESCE((SELECT revision FROM (SELECT revision, SUM(size) OVER (ORDER BY revision DESC) AS newer FROM events) sized
                      WHERE newer > @max_bytes ORDER BY revision DESC LIMIT 1), 0),
            0)
        """;

    private const string DeleteEventsChunk = """
        DELETE FROM events WHERE revision IN (
            SELECT revision FROM events WHERE revision <= @through ORDER BY revision LIMIT @limit)
        """;

    private const string SelectCommandBytesCut = $"""
        SELECT completed_at, command_id FROM (
            SELECT commands.completed_at, commands.command_id,
                   SUM(commands.size) OVER (ORDER BY commands.completed_at DESC, commands.command_id DESC) AS newer
            FROM commands WHERE {Completed}) sized
        WHERE newer > @max_bytes
        ORDER BY completed_at DESC, command_id DESC
        LIMIT 1
        """;

    private const string DeleteCompletedCommandsChunk = $"""
        DELETE FROM commands WHERE command_id IN (
            SELECT commands.command_id FROM commands
            WHERE {Completed}
              AND (commands.completed_at < @completed_before OR (commands.completed_at, commands.command_id) <= (@cut_at, @cut_id))
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
            var before = await DatabaseSizeAsync(cancellationToken);
            var through = await ReadAsync(async db =>
            {
                await using var command = new NpgsqlCommand(SelectEventsThrough, db)
                    .Bind("@cutoff", policy.Now - policy.MaxEventAge).Bind("@max_events", policy.MaxEvents).Bind("@max_bytes", policy.MaxEventBytes);
                return await command.ScalarInt64Async(cancellationToken);
            }, cancellationToken);
            var events = through > 0
                ? await DeleteInChunksAsync(DeleteEventsChunk, command => command.Bind("@through", through), cancellationToken)
                : 0;
            var (cutAt, cutId) = await ReadAsync(async db =>
            {
                await using var command = new NpgsqlCommand(SelectCommandBytesCut, db).Bind("@max_bytes", policy.MaxCommandBytes);
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                return await reader.ReadAsync(cancellationToken) ? ((long?)reader.GetInt64(0), reader.GetString(1)) : (null, null);
            }, cancellationToken);
            var commands = await DeleteInChunksAsync(DeleteCompletedCommandsChunk, command => command
                .Bind("@completed_before", policy.Now - policy.MaxCommandAge).Bind("@cut_at", cutAt).Bind("@cut_id", cutId), cancellationToken);
            return new RetentionResult(events, events > 0 ? through : 0, commands, before, await DatabaseSizeAsync(cancellationToken));
        }
        finally
        {
            _retentionLock.Release();
        }
    }

    private Task<long> DatabaseSizeAsync(CancellationToken cancellationToken) => ReadAsync(async db =>
    {
        await using var command = new NpgsqlCommand(SelectDatabaseSize, db);
        return await command.ScalarInt64Async(cancellationToken);
    }, cancellationToken);

    private async Task<int> DeleteInChunksAsync(string sql, Func<NpgsqlCommand, NpgsqlCommand> bind, CancellationToken cancellationToken)
    {
        var total = 0;
        while (true)
        {
            int deleted;
            await using (var tx = (PostgresWriteTransaction)await BeginWriteAsync(cancellationToken))
            {
                deleted = await tx.WriteAsync(async db =>
                {
                    await using var command = bind(new NpgsqlCommand(sql, db)).Bind("@limit", RetentionChunk);
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
}
