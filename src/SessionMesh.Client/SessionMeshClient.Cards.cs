using System.Net;
using System.Text.Json;
using SessionMesh.Client.Http;
using SessionMesh.Contracts;

namespace SessionMesh.Client;

public sealed partial class SessionMeshClient
{
    /// <summary>
    /// <c>PUT /agents/{agent_id}/card</c>: stores the agent's A2A Agent Card (camelCase, as A2A writes it); its skills become
    /// the agent's specializations. Created is true for the agent's first card. Writing the same card again changes
    /// nothing, so a retried call is safe.
    /// </summary>
    public async Task<(AgentCardEntry Entry, bool Created)> PutCardAsync(string agentId, JsonElement card, CancellationToken cancellationToken = default)
    {
        var (entry, status) = await _transport.SendWithStatusAsync(
            HttpMethod.Put, $"agents/{MeshQuery.Segment(agentId)}/card", card, MeshJsonContext.Default.JsonElement, MeshJsonContext.Default.AgentCardEntry,
            new MeshCallOptions { Retryable = true }, cancellationToken);
        return (entry, status == HttpStatusCode.Created);
    }

    /// <summary><c>GET /agents/{agent_id}/card</c>: the agent's A2A Agent Card as stored (404 <c>card_not_found</c> when it has none).</summary>
    public Task<JsonElement> GetCardAsync(string agentId, CancellationToken cancellationToken = default) =>
        GetAsync($"agents/{MeshQuery.Segment(agentId)}/card", MeshJsonContext.Default.JsonElement, cancellationToken);

    /// <summary><c>DELETE /agents/{agent_id}/card</c>: removes the card and the specializations its skills made.</summary>
    public Task<AgentCardEntry> DeleteCardAsync(string agentId, CancellationToken cancellationToken = default) =>
        SendNoBodyAsync(HttpMethod.Delete, $"agents/{MeshQuery.Segment(agentId)}/card", MeshJsonContext.Default.AgentCardEntry, cancellationToken);

    /// <summary>
    /// <c>GET /registry?specialization=X&amp;format=a2a</c>: the A2A Agent Cards of the agents with X, alive first, least loaded
    /// first; agents without a card are left out, so a page may be short and still have a next one.
    /// </summary>
    public Task<Page<AgentCardEntry>> ListRegistryCardsAsync(string specialization, bool? alive = null, int? limit = null, string? cursor = null, CancellationToken cancellationToken = default) =>
        GetAsync(
            new MeshQuery("registry").Add("specialization", specialization).Add("alive", alive).Add("format", "a2a").Add("limit", limit).Add("cursor", cursor).ToString(),
            MeshJsonContext.Default.PageAgentCardEntry, cancellationToken);
}
