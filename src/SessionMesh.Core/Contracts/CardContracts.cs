using System.Text.Json;
using SessionMesh.Model;

namespace SessionMesh.Contracts;

/// <summary>
/// An agent's A2A Agent Card with the mesh's view of the agent: the answer to <c>PUT</c> and <c>DELETE /agents/{agent_id}/card</c>,
/// and an item of <c>GET /registry?format=a2a</c>. The card itself (<see cref="Card"/>) is the A2A document as stored;
/// <c>GET /agents/{agent_id}/card</c> answers it bare.
/// </summary>
public sealed record AgentCardEntry
{
    public required string AgentId { get; init; }
    public required string Cluster { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }

    /// <summary>In registry lookups: whether the agent is alive now, its status and reported load.</summary>
    public bool? Alive { get; init; }
    public SessionStatus? Status { get; init; }
    public double? Load { get; init; }

    /// <summary>In the answer to a write: the specializations the card's skills are now (skill ids).</summary>
    public List<string>? Specializations { get; init; }

    /// <summary>In the answer to a write: the specializations removed because a skill of the previous card is gone.</summary>
    public List<string>? Removed { get; init; }

    /// <summary>In the answer to a write: whether anything changed.</summary>
    public bool? Changed { get; init; }

    /// <summary>The A2A Agent Card, camelCase as A2A writes it; left out of events, which carry only the rest.</summary>
    public JsonElement? Card { get; init; }
}
