using Npgsql;
using NpgsqlTypes;
using SessionMesh.Model;
using static SessionMesh.Store.Postgres.PostgresRows;

namespace SessionMesh.Store.Postgres;

public sealed partial class PostgresMeshStore
{
    private const string SelectAgentById = $"SELECT {AgentColumns} FROM agents WHERE agents.cluster = @cluster AND agents.agent_id = @agent_id";

    private const string SelectAgentsPage = $"""
        SELECT {AgentColumns} FROM agents
        WHERE agents.cluster = @cluster AND agents.agent_id > @after
        ORDER BY agents.agent_id
        LIMIT @limit
        """;

    private const string SelectChildrenPage = $"""
        SELECT {AgentColumns} FROM agents
        WHERE agents.cluster = @cluster AND agents.parent_id = @parent_id AND agents.agent_id > @after
        ORDER BY agents.agent_id
        LIMIT @limit
        """;

    private const string SelectAgentsByIds = $"""
        SELECT {AgentColumns} FROM agents
        WHERE agents.cluster = @cluster AND agents.agent_id = ANY(@agent_ids)
        ORDER BY agents.agent_id
        """;

    private const string SelectChildrenOfParents = $"""
        SELECT {AgentColumns} FROM agents
        WHERE agents.cluster = @cluster AND agents.parent_id = ANY(@parent_ids)
        ORDER BY agents.parent_id, agents.agent_id
        """;

    private const string UpsertAgentSql = """
        INSERT INTO agents (cluster, agent_id, parent_id, labels, created_at, updated_at)
        VALUES (@cluster, @agent_id, @parent_id, @labels, @created_at, @updated_at)
        ON CONFLICT (cluster, agent_id) DO UPDATE
        SET parent_id = excluded.parent_id, labels = excluded.labels,
            created_at = excluded.created_at, updated_at = excluded.updated_at
        """;

    /// <inheritdoc />
    public Task<AgentRecord?> GetAgentAsync(string cluster, string agentId, CancellationToken cancellationToken) =>
        ReadAsync(db => SelectAgentAsync(db, cluster, agentId, cancellationToken), cancellationToken);

    /// <inheritdoc />
    public async Task<IReadOnlyList<AgentRecord>> ListAgentsAsync(string cluster, string? parentId, string? afterAgentId, int limit, CancellationToken cancellationToken) =>
        await ReadAsync(async db =>
        {
            // Every id sorts after the empty string, so one statement serves the first page too.
            await using var command = new NpgsqlCommand(parentId is null ? SelectAgentsPage : SelectChildrenPage, db)
                .Bind("@cluster", cluster).Bind("@after", afterAgentId ?? "").Bind("@limit", Math.Max(0, limit));
            if (parentId is not null)
            {
                command.Bind("@parent_id", parentId);
            }
            return await command.ListAsync(ReadAgent, cancellationToken);
        }, cancellationToken);

    /// <inheritdoc />
    public async Task<IReadOnlyList<AgentRecord>> GetAgentsAsync(string cluster, IReadOnlyCollection<string> agentIds, CancellationToken cancellationToken) =>
        agentIds.Count == 0 ? [] : await ReadAsync(async db =>
        {
            await using var command = new NpgsqlCommand(SelectAgentsByIds, db)
                .Bind("@cluster", cluster).BindArray("@agent_ids", NpgsqlDbType.Text, agentIds);
            return await command.ListAsync(ReadAgent, cancellationToken);
        }, cancellationToken);

    /// <inheritdoc />
    public async Task<IReadOnlyList<AgentRecord>> GetChildrenAsync(string cluster, IReadOnlyCollection<string> parentIds, CancellationToken cancellationToken) =>
        parentIds.Count == 0 ? [] : await ReadAsync(db => SelectChildrenAsync(db, cluster, parentIds, cancellationToken), cancellationToken);

    internal static async Task<IReadOnlyList<AgentRecord>> SelectChildrenAsync(NpgsqlConnection db, string cluster, IReadOnlyCollection<string> parentIds, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(SelectChildrenOfParents, db)
            .Bind("@cluster", cluster).BindArray("@parent_ids", NpgsqlDbType.Text, parentIds);
        return await command.ListAsync(ReadAgent, cancellationToken);
    }

    internal static async Task<AgentRecord?> SelectAgentAsync(NpgsqlConnection db, string cluster, string agentId, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(SelectAgentById, db).Bind("@cluster", cluster).Bind("@agent_id", agentId);
        return await command.FirstOrDefaultAsync(ReadAgent, cancellationToken);
    }

    internal static async Task UpsertAgentAsync(NpgsqlConnection db, AgentRecord agent, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(UpsertAgentSql, db)
            .Bind("@cluster", agent.Cluster).Bind("@agent_id", agent.AgentId).Bind("@parent_id", agent.ParentId)
            .BindJson("@labels", PostgresJson.WriteLabels(agent.Labels))
            .Bind("@created_at", agent.CreatedAt).Bind("@updated_at", agent.UpdatedAt);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
