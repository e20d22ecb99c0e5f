using SessionMesh.Contracts;

namespace SessionMesh.Client;

/// <summary>Who a <see cref="MeshAgent"/> joins as, and how it keeps its session.</summary>
public sealed record MeshAgentOptions
{
    /// <summary>The agent's id: 1–128 characters of <c>[A-Za-z0-9._:@-]</c>.</summary>
    public required string AgentId { get; init; }
    /// <summary>The agent that spawned this one.</summary>
    public string? ParentId { get; init; }
    /// <summary>Specializations registered with the join.</summary>
    public IReadOnlyList<SpecializationInput>? Specializations { get; init; }
    /// <summary>Labels of the agent.</summary>
    public IReadOnlyDictionary<string, string>? Labels { get; init; }
    /// <summary>Lease length in seconds (server default 30).</summary>
    public int? Ttl { get; init; }
    /// <summary>Seconds after which the mesh kills the agent with reason <c>max_runtime_exceeded</c>.</summary>
    public int? MaxRuntime { get; init; }
    /// <summary>Heartbeat every <c>ttl × HeartbeatFraction</c>; default one third, so two beats may be lost before the lease runs out.</summary>
    /// <summary>Seconds without progress after which the mesh counts the agent as stalled (report it with <see cref="MeshAgent.Progress"/>).</summary>
    public int? StallAfter { get; init; }
    /// <summary>What the mesh does when the agent stalls: <c>none</c>, <c>message</c> or <c>kill</c>.</summary>
    public string? OnStall { get; init; }
    /// <summary>Limits over the agent's sub-tree (tokens, tool calls, turns, cost, runtime); see docs/progress-and-budgets.md.</summary>
    public SessionMesh.Model.AgentBudget? Budget { get; init; }
    public double HeartbeatFraction { get; init; } = 1.0 / 3;
    /// <summary>Join again when the session ends under the agent (expired, 410) rather than stop; default true.</summary>
    public bool Rejoin { get; init; } = true;
    /// <summary>
    /// Ack a kill the moment it arrives (default), which ends the session at once. Set false when stopping takes time
    /// (a process tree to bring down): <see cref="MeshAgent.Killed"/> is still cancelled on arrival, heartbeats go on,
    /// and the session ends when the caller acks <see cref="MeshAgent.KillCommand"/> itself, or when the grace period runs out.
    /// </summary>
    public bool AckKillOnArrival { get; init; } = true;

    internal JoinRequest ToJoinRequest() => new()
    {
        AgentId = AgentId,
        ParentId = ParentId,
        Specializations = Specializations?.ToList(),
        Labels = Labels?.ToDictionary(),
        Ttl = Ttl,
        MaxRuntime = MaxRuntime,
        StallAfter = StallAfter,
        OnStall = OnStall,
        Budget = Budget,
    };
}
