namespace SessionMesh.Client;

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
/// <param name="Created">True for 201: a new registration.</param>
public sealed record RegistrationResult(Contracts.RegistryEntry Entry, bool Created)
{
    /// <summary>True when the call changed something: a new registration, or a new description, tags or version.</summary>
    public bool Changed => Created || Entry.Changed == true;
}
