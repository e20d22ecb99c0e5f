using System.Text.Json.Serialization;
using SessionMesh.Model;

namespace SessionMesh.Contracts;

/// <summary>A specialization given on a join: a bare name or a full object.</summary>
[JsonConverter(typeof(SpecializationInputConverter))]
public sealed record SpecializationInput
{
    public string? Name { get; init; }
    public string? Description { get; init; }
    public List<string>? Tags { get; init; }
    public string? Version { get; init; }
}

/// <summary>Body of <c>POST /registry</c>.</summary>
public sealed record RegisterRequest
{
    public string? Specialization { get; init; }
    public string? AgentId { get; init; }
    public string? Description { get; init; }
    public List<string>? Tags { get; init; }
    public string? Version { get; init; }
    public string? Cluster { get; init; }
}

/// <summary>A registered specialization of an agent.</summary>
public sealed record SpecializationView
{
    public required string Name { get; init; }
    public string? Description { get; init; }
    public List<string> Tags { get; init; } = [];
    public string? Version { get; init; }
    public required DateTimeOffset RegisteredAt { get; init; }
}

/// <summary>An agent registered for a specialization, with where it stands now.</summary>
public sealed record RegistryEntry
{
    public required string AgentId { get; init; }
    public required string Cluster { get; init; }
    public required string Specialization { get; init; }
    public string? Description { get; init; }
    public List<string> Tags { get; init; } = [];
    public string? Version { get; init; }
    public required DateTimeOffset RegisteredAt { get; init; }
    public bool Alive { get; init; }
    public SessionStatus? Status { get; init; }
    public string? SessionId { get; init; }
    public double? Load { get; init; }
    /// <summary>
    /// Only in the answer to <c>POST /registry</c>: whether the call changed anything (a new registration, or a new
    /// description, tags or version), false when it was already so.
    /// </summary>
    public bool? Changed { get; init; }
}

/// <summary>One row of <c>GET /registry/specializations</c>.</summary>
public sealed record SpecializationSummary
{
    public required string Specialization { get; init; }
    public required int Agents { get; init; }
    public required int Alive { get; init; }
}

/// <summary>Answer to <c>DELETE /registry/{agent_id}/{specialization}</c>.</summary>
public sealed record UnregisterResponse
{
    public required string AgentId { get; init; }
    public required string Specialization { get; init; }
    public bool Removed { get; init; }
}
