using Npgsql;
using NpgsqlTypes;
using SessionMesh.Model;

namespace SessionMesh.Store.Postgres;

public sealed partial class PostgresMeshStore
{
    private const string SelectCard = """
        SELECT cluster, agent_id, card, updated_at FROM agent_cards WHERE cluster = @cluster AND agent_id = @agent_id
        """;

    private const string SelectCardsOfAgents = """
        SELECT cluster, agent_id, card, updated_at FROM agent_cards
        WHERE cluster = @cluster AND agent_id = ANY(@agent_ids)
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
            await using var command = new NpgsqlCommand(SelectCardsOfAgents, db).Bind("@cluster", cluster).BindArray("@agent_ids", NpgsqlDbType.Text, agentIds);
            return await command.ListAsync(ReadCard, cancellationToken);
        }, cancellationToken);

    internal static async Task<AgentCardRecord?> SelectCardAsync(NpgsqlConnection db, string cluster, string agentId, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(SelectCard, db).Bind("@cluster", cluster).Bind("@agent_id", agentId);
        return await command.FirstOrDefaultAsync(ReadCard, cancellationToken);
    }

    internal static async Task UpsertCardAsync(NpgsqlConnection db, AgentCardRecord card, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(UpsertCardSql, db)
            .Bind("@cluster", card.Cluster).Bind("@agent_id", card.AgentId).Bind("@card", card.Card).Bind("@updated_at", card.UpdatedAt);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    internal static async Task<bool> DeleteCardAsync(NpgsqlConnection db, string cluster, string agentId, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(DeleteCardSql, db).Bind("@cluster", cluster).Bind("@agent_id", agentId);
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    private static AgentCardRecord ReadCard(NpgsqlDataReader r) =>
        new(r.GetString(0), r.GetString(1), r.GetString(2), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(3)));
}
