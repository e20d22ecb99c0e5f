using Microsoft.Data.Sqlite;
using SessionMesh.Model;
using SessionMesh.Store.Sql;
using static SessionMesh.Store.Sqlite.SqliteRows;

namespace SessionMesh.Store.Sqlite;

public sealed partial class SqliteMeshStore
{
    /// <summary>Queued or delivered; written exactly as in the partial indexes' WHERE, so SQLite can use them.</summary>
    private const string Pending = "commands.status IN ('queued', 'delivered')";

    private const string SelectCommandById = $"SELECT {CommandColumns} FROM commands WHERE commands.command_id = @command_id";

    private const string SelectCommandByIdempotencyKey = $"""
        SELECT {CommandColumns} FROM commands
        WHERE commands.created_by = @created_by AND commands.idempotency_key = @idempotency_key
        """;

    private const string SelectPendingCommandsPage = $"""
        SELECT {CommandColumns} FROM commands
        WHERE commands.cluster = @cluster AND commands.agent_id = @agent_id AND {Pending} AND commands.sequence > @after
        ORDER BY commands.sequence
        LIMIT @limit
        """;

    private const string SelectDueCommands = $"""
        SELECT {CommandColumns} FROM commands
        WHERE {Pending} AND commands.deadline_at IS NOT NULL AND commands.deadline_at <= @now
        ORDER BY commands.deadline_at, commands.command_id
        LIMIT @limit
        """;

    private const string SelectPendingKillsOfAgents = $"""
        SELECT {CommandColumns} FROM commands
        WHERE commands.cluster = @cluster AND commands.agent_id IN (SELECT value FROM json_each(@agent_ids))
          AND commands.kind = 'kill' AND {Pending}
        ORDER BY commands.agent_id, commands.sequence
        """;

    private const string SelectPendingKill = $"""
        SELECT {CommandColumns} FROM commands
        WHERE commands.cluster = @cluster AND commands.agent_id = @agent_id AND commands.kind = 'kill' AND {Pending}
        ORDER BY commands.sequence
        LIMIT 1
        """;

    private const string CountCommandsByStatus = "SELECT commands.status, COUNT(*) FROM commands GROUP BY commands.status";

    private const string SelectNextCommandSequence = """
        SELECT COALESCE(MAX(last_sequence), 0) + 1 FROM command_sequences
        WHERE cluster = @cluster AND agent_id = @agent_id
        """;

    // The counter moves with every insert, in the same transaction; MAX keeps it from going back.
    private const string InsertCommandSql = """
        INSERT INTO commands (command_id, cluster, agent_id, kind, status, sequence, direction, mode, text, from_agent,
                              reason, grace_period, payload, result, created_at, delivered_at, completed_at, deadline_at,
                              created_by, idempotency_key, delivery_count)
        VALUES (@command_id, @cluster, @agent_id, @kind, @status, @sequence, @direction, @mode, @text, @from_agent,
                @reason, @grace_period, @payload, @result, @created_at, @delivered_at, @completed_at, @deadline_at,
                @created_by, @idempotency_key, @delivery_count);
        INSERT INTO command_sequences (cluster, agent_id, last_sequence)
        VALUES (@cluster, @agent_id, @sequence)
        ON CONFLICT (cluster, agent_id) DO UPDATE SET last_sequence = MAX(last_sequence, excluded.last_sequence);
        """;

    private const string UpdateCommandSql = """
        UPDATE commands
        SET status = @status, result = @result, delivered_at = @delivered_at, completed_at = @completed_at,
            deadline_at = @deadline_at, delivery_count = @delivery_count
        WHERE command_id = @command_id
        """;

    /// <inheritdoc />
    public Task<CommandRecord?> GetCommandAsync(string commandId, CancellationToken cancellationToken) =>
        ReadAsync(db => SelectCommandAsync(db, commandId, cancellationToken), cancellationToken);

    /// <inheritdoc />
    public async Task<IReadOnlyList<CommandRecord>> ListPendingCommandsAsync(
        string cluster, string agentId, long afterSequence, int limit, CancellationToken cancellationToken) =>
        await ReadAsync(async db =>
        {
            await using var command = db.Command(SelectPendingCommandsPage)
                .Bind("@cluster", cluster).Bind("@agent_id", agentId).Bind("@after", afterSequence)
                .Bind("@limit", Math.Max(0, limit));
            return await command.ListAsync(ReadCommand, cancellationToken);
        }, cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyDictionary<CommandStatus, long>> CountCommandsAsync(CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyDictionary<CommandStatus, long>>(async db =>
        {
            var counts = Enum.GetValues<CommandStatus>().ToDictionary(status => status, _ => 0L);
            await using var command = db.Command(CountCommandsByStatus);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                counts[CommandStatusOf(reader.GetString(0))] = reader.GetInt64(1);
            }
            return counts;
        }, cancellationToken);

    internal static async Task<CommandRecord?> SelectCommandAsync(SqliteDb db, string commandId, CancellationToken cancellationToken)
    {
        await using var command = db.Command(SelectCommandById).Bind("@command_id", commandId);
        return await command.FirstOrDefaultAsync(ReadCommand, cancellationToken);
    }

    internal static async Task<CommandRecord?> SelectCommandByIdempotencyKeyAsync(
        SqliteDb db, string createdBy, string idempotencyKey, CancellationToken cancellationToken)
    {
        await using var command = db.Command(SelectCommandByIdempotencyKey)
            .Bind("@created_by", createdBy).Bind("@idempotency_key", idempotencyKey);
        return await command.FirstOrDefaultAsync(ReadCommand, cancellationToken);
    }

    internal static Task<long> NextCommandSequenceAsync(SqliteDb db, string cluster, string agentId, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var write = db.Write(SelectNextCommandSequence).Bind("@cluster", cluster).Bind("@agent_id", agentId);
        return Task.FromResult(write.ExecuteInt64());
    }

    internal static Task InsertCommandAsync(SqliteDb db, CommandRecord command, CancellationToken cancellationToken) =>
        BindCommand(db.Write(InsertCommandSql), command)
            .Bind("@cluster", command.Cluster).Bind("@agent_id", command.AgentId).Bind("@kind", ToDb(command.Kind))
            .Bind("@sequence", command.Sequence).Bind("@direction", command.Direction).Bind("@mode", command.Mode)
            .Bind("@text", command.Text).Bind("@from_agent", command.From).Bind("@reason", command.Reason)
            .Bind("@grace_period", command.GracePeriod).Bind("@payload", command.Payload)
            .Bind("@created_at", command.CreatedAt).Bind("@created_by", command.CreatedBy)
            .Bind("@idempotency_key", command.IdempotencyKey)
            .RunAsync(cancellationToken);

    internal static Task UpdateCommandAsync(SqliteDb db, CommandRecord command, CancellationToken cancellationToken) =>
        BindCommand(db.Write(UpdateCommandSql), command).RunAsync(cancellationToken);

    internal static async Task<IReadOnlyList<CommandRecord>> ListDueCommandsAsync(SqliteDb db, DateTimeOffset now, int limit, CancellationToken cancellationToken)
    {
        await using var command = db.Command(SelectDueCommands).Bind("@now", now).Bind("@limit", Math.Max(0, limit));
        return await command.ListAsync(ReadCommand, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<CommandRecord>> GetPendingKillsAsync(string cluster, IReadOnlyCollection<string> agentIds, CancellationToken cancellationToken) =>
        agentIds.Count == 0 ? [] : await ReadAsync(async db =>
        {
            await using var command = db.Command(SelectPendingKillsOfAgents)
                .Bind("@cluster", cluster).Bind("@agent_ids", SqliteJson.WriteStrings(agentIds));
            return await command.ListAsync(ReadCommand, cancellationToken);
        }, cancellationToken);

    internal static async Task<CommandRecord?> SelectPendingKillAsync(SqliteDb db, string cluster, string agentId, CancellationToken cancellationToken)
    {
        await using var command = db.Command(SelectPendingKill).Bind("@cluster", cluster).Bind("@agent_id", agentId);
        return await command.FirstOrDefaultAsync(ReadCommand, cancellationToken);
    }

    internal static Task<CommandDelivery> RecordDeliveryAsync(SqliteDb db, string commandId, DateTimeOffset at, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using (var first = db.Write(CommandSql.RecordFirstDeliverySql).Bind("@command_id", commandId).Bind("@at", at))
        {
            if (first.Execute() > 0)
            {
                return Task.FromResult(CommandDelivery.First);
            }
        }
        using var again = db.Write(CommandSql.RecordRedeliverySql).Bind("@command_id", commandId);
        return Task.FromResult(again.Execute() > 0 ? CommandDelivery.Again : CommandDelivery.NotPending);
    }

    /// <summary>Binds the mutable fields, shared by insert and update.</summary>
    private static PreparedWrite BindCommand(PreparedWrite command, CommandRecord record) =>
        command.Bind("@command_id", record.CommandId).Bind("@status", ToDb(record.Status))
            .Bind("@result", record.Result).Bind("@delivered_at", record.DeliveredAt)
            .Bind("@completed_at", record.CompletedAt).Bind("@deadline_at", record.DeadlineAt)
            .Bind("@delivery_count", record.DeliveryCount);
}
