using SessionMesh.Model;
using static SessionMesh.Store.Sqlite.SqliteRows;

namespace SessionMesh.Store.Sqlite;

public sealed partial class SqliteMeshStore
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
        WHERE agents.cluster = @cluster AND agents.agent_id IN (SELECT value FROM json_each(@agent_ids))
        ORDER BY agents.agent_id
        """;

    private const string SelectChildrenOfParents = $"""
        SELECT {AgentColumns} FROM agents
        WHERE agents.cluster = @cluster AND agents.parent_id IN (SELECT value FROM json_each(@parent_ids))
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
            await using var command = db.Command(parentId is null ? SelectAgentsPage : SelectChildrenPage)
                .Bind("@cluster", cluster).Bind("@parent_id", parentId).Bind("@after", afterAgentId ?? "")
                .Bind("@limit", Math.Max(0, limit));
            return await command.ListAsync(ReadAgent, cancellationToken);
        }, cancellationToken);

    /// <inheritdoc />
    public async Task<IReadOnlyList<AgentRecord>> GetAgentsAsync(string cluster, IReadOnlyCollection<string> agentIds, CancellationToken cancellationToken) =>
        agentIds.Count == 0 ? [] : await ReadAsync(async db =>
        {
            await using var command = db.Command(SelectAgentsByIds)
                .Bind("@cluster", cluster).Bind("@agent_ids", SqliteJson.WriteStrings(agentIds));
            return await command.ListAsync(ReadAgent, cancellationToken);
        }, cancellationToken);

    /// <inheritdoc />
    public async Task<IReadOnlyList<AgentRecord>> GetChildrenAsync(string cluster, IReadOnlyCollection<string> parentIds, CancellationToken cancellationToken) =>
        parentIds.Count == 0 ? [] : await ReadAsync(db => SelectChildrenAsync(db, cluster, parentIds, cancellationToken), cancellationToken);

    internal static async Task<IReadOnlyList<AgentRecord>> SelectChildrenAsync(SqliteDb db, string cluster, IReadOnlyCollection<string> parentIds, CancellationToken cancellationToken)
    {
        await using var command = db.Command(SelectChildrenOfParents)
            .Bind("@cluster", cluster).Bind("@parent_ids", SqliteJson.WriteStrings(parentIds));
        return await command.ListAsync(ReadAgent, cancellationToken);
    }

    internal static async Task<AgentRecord?> SelectAgentAsync(SqliteDb db, string cluster, string agentId, CancellationToken cancellationToken)
    {
        await using var command = db.Command(SelectAgentById).Bind("@cluster", cluster).Bind("@agent_id", agentId);
        return await command.FirstOrDefaultAsync(ReadAgent, cancellationToken);
    }

    internal static Task UpsertAgentAsync(SqliteDb db, AgentRecord agent, CancellationToken cancellationToken) =>
        db.Write(UpsertAgentSql)
            .Bind("@cluster", agent.Cluster).Bind("@agent_id", agent.AgentId).Bind("@parent_id", agent.ParentId)
            .Bind("@labels", SqliteJson.WriteLabels(agent.Labels))
            .Bind("@created_at", agent.CreatedAt).Bind("@updated_at", agent.UpdatedAt)
            .RunAsync(cancellationToken);
}
