namespace SessionMesh.Client;

/// <summary>Filters of <c>GET /alive</c>.</summary>
public sealed record AliveQuery
{
    /// <summary><c>active</c>, <c>idle</c>, <c>stale</c>, <c>alive</c> (default), <c>ended</c>, <c>orphaned</c> or <c>all</c>.</summary>
    public string? Filter { get; init; }
    /// <summary>Only agents registered for this specialization.</summary>
    public string? Specialization { get; init; }
    /// <summary>Label selectors, each <c>key=value</c>; all must match.</summary>
    public IReadOnlyList<string>? Labels { get; init; }
    /// <summary>Only children of this agent.</summary>
    public string? ParentId { get; init; }
    /// <summary>Page size, 1..1000 (server default 100).</summary>
    public int? Limit { get; init; }
    /// <summary>The <c>next_cursor</c> of the previous page.</summary>
    public string? Cursor { get; init; }
}

/// <summary>Options of <c>DELETE /agents/{agent_id}</c>.</summary>
public sealed record KillOptions
{
    /// <summary>Immediate termination instead of a graceful stop.</summary>
    public bool? Force { get; init; }
    /// <summary>Kill sub-agents too (server default true).</summary>
    public bool? Cascade { get; init; }
    /// <summary>Seconds the agent gets to stop gracefully (server default 10).</summary>
    public int? GracePeriod { get; init; }
    /// <summary>Why, recorded with the kill.</summary>
    public string? Reason { get; init; }
}

/// <summary>The result of <c>POST /registry</c>: the entry, and whether this call created or changed it.</summary>
/// <param name="Entry">The registry entry as it now stands.</param>
/// <param name="Created">True for 201 (created or changed), false for 200 (already so).</param>
public sealed record RegistrationResult(Contracts.RegistryEntry Entry, bool Created);
