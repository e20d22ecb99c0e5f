using Microsoft.Data.Sqlite;
using SessionMesh.Model;

namespace SessionMesh.Store.Sqlite;

public sealed partial class SqliteMeshStore
{
    private const string SelectCard = """
        SELECT cluster, agent_id, card, updated_at FROM agent_cards WHERE cluster = @cluster AND agent_id = @agent_id
        """;

    private const string SelectCardsOfAgents = """
        SELECT cluster, agent_id, card, updated_at FROM agent_cards
        WHERE cluster = @cluster AND agent_id IN (SELECT value FROM json_each(@agent_ids))
        ORDER BY agent_id
        """;

    private const string UpsertCardSql = """
        INSERT INTO agent_cards (cluster, agent_id, card, updated_at) VALUES (@cluster, @agent_id, @card, @updated_at)
        ON CONFLICT (cluster, agent_id) DO UPDATE SET card = excluded.card, updated_at = excluded.updated_at
        """;

    private const string DeleteCardSql = "DELETE FROM agent_cards WHERE cluster = @cluster AND agent_id = @agent_id";

    /// <inheritdoc />
    public async Task<AgentCardRecord?> GetCardAsync(string cluster, string agentId, CancellationToken cancellationToken) =>
        await ReadAsync(db => SelectCardAsync(db, cluster, agentId, cancellationToken), cancellationToken);

    /// <inheritdoc />
    public async Task<IReadOnlyList<AgentCardRecord>> GetCardsAsync(string cluster, IReadOnlyCollection<string> agentIds, CancellationToken cancellationToken) =>
        agentIds.Count == 0 ? [] : await ReadAsync<IReadOnlyList<AgentCardRecord>>(async db =>
        {
            await using var command = db.Command(SelectCardsOfAgents).Bind("@cluster", cluster).Bind("@agent_ids", SqliteJson.WriteStrings(agentIds));
            return await command.ListAsync(ReadCard, cancellationToken);
        }, cancellationToken);

    internal static async Task<AgentCardRecord?> SelectCardAsync(SqliteDb db, string cluster, string agentId, CancellationToken cancellationToken)
    {
        await using var command = db.Command(SelectCard).Bind("@cluster", cluster).Bind("@agent_id", agentId);
        return await command.FirstOrDefaultAsync(ReadCard, cancellationToken);
    }

    internal static async Task UpsertCardAsync(SqliteDb db, AgentCardRecord card, CancellationToken cancellationToken)
    {
        await using var command = db.Command(UpsertCardSql)
            .Bind("@cluster", card.Cluster).Bind("@agent_id", card.AgentId).Bind("@card", card.Card).Bind("@updated_at", card.UpdatedAt);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    internal static async Task<bool> DeleteCardAsync(SqliteDb db, string cluster, string agentId, CancellationToken cancellationToken)
    {
        await using var command = db.Command(DeleteCardSql).Bind("@cluster", cluster).Bind("@agent_id", agentId);
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    private static AgentCardRecord ReadCard(SqliteDataReader r) =>
        new(r.GetString(0), r.GetString(1), r.GetString(2), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(3)));
}
