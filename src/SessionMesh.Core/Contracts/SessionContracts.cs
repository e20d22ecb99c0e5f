using SessionMesh.Model;

namespace SessionMesh.Contracts;

/// <summary>Body of <c>POST /sessions</c>: an agent joins the mesh.</summary>
public sealed record JoinRequest
{
    /// <summary>The agent's id, chosen by the client.</summary>
    public string? AgentId { get; init; }
    /// <summary>The agent that spawned this one.</summary>
    public string? ParentId { get; init; }
    /// <summary>Specializations to register with the join: names or full objects.</summary>
    public List<SpecializationInput>? Specializations { get; init; }
    /// <summary>Labels replacing the agent's labels.</summary>
    public Dictionary<string, string>? Labels { get; init; }
    /// <summary>Lease length in seconds, 1..86400; default 30.</summary>
    public int? Ttl { get; init; }
    /// <summary>Seconds after which the mesh kills the agent with reason <c>max_runtime_exceeded</c>.</summary>
    public int? MaxRuntime { get; init; }
    /// <summary>Seconds without progress (counters not growing) after which the session counts as stalled.</summary>
    public int? StallAfter { get; init; }
    /// <summary>What the mesh does when the session stalls: <c>none</c> (default), <c>message</c> or <c>kill</c>.</summary>
    public string? OnStall { get; init; }
    /// <summary>Limits on the agent's usage with its descendants'; a child's never exceeds what its ancestors have left.</summary>
    public AgentBudget? Budget { get; init; }
    /// <summary>The cluster; defaults to the key's.</summary>
    public string? Cluster { get; init; }
}

/// <summary>Body of <c>POST /sessions/{id}/heartbeat</c>.</summary>
public sealed record HeartbeatRequest
{
    /// <summary>Reported load, 0..1.</summary>
    public double? Load { get; init; }
    /// <summary><c>active</c> or <c>idle</c>.</summary>
    public string? Status { get; init; }
    /// <summary>Cumulative counters and the current activity (also <c>POST /sessions/{id}/progress</c>).</summary>
    public AgentProgress? Progress { get; init; }
}

/// <summary>A session as the API shows it.</summary>
public sealed record SessionView
{
    public required string SessionId { get; init; }
    public required string AgentId { get; init; }
    public required string Cluster { get; init; }
    public string? ParentId { get; init; }
    public required SessionStatus Status { get; init; }
    public required int Ttl { get; init; }
    public double? Load { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public required DateTimeOffset LastSeen { get; init; }
    public required DateTimeOffset ExpiresAt { get; init; }
    public DateTimeOffset? EndedAt { get; init; }
    public string? EndReason { get; init; }
    /// <summary>The exit code of the agent's process, when it left with one (<c>session-mesh agent</c> leaves with its child's).</summary>
    public int? ExitCode { get; init; }
    public int? MaxRuntime { get; init; }
    /// <summary>The agent's last reported progress: counters and activity.</summary>
    public AgentProgress? Progress { get; init; }
    /// <summary>When a progress counter last grew.</summary>
    public DateTimeOffset? ProgressedAt { get; init; }
    /// <summary>Seconds without progress after which the session counts as stalled.</summary>
    public int? StallAfter { get; init; }
    /// <summary>What the mesh does when the session stalls.</summary>
    public string? OnStall { get; init; }
    /// <summary>The session's budget (after clipping to what its ancestors had left).</summary>
    public AgentBudget? Budget { get; init; }
    /// <summary>With a budget: the usage charged to it, the agent's and its descendants'.</summary>
    public AgentProgress? BudgetUsed { get; init; }
    /// <summary>With a budget: <c>warned</c> past the soft limit, <c>exceeded</c> once spent.</summary>
    public string? BudgetAlert { get; init; }
    /// <summary>On a join: the budget counters cut to what the agent's ancestors had left.</summary>
    public List<string>? BudgetClipped { get; init; }
    /// <summary>Inside a graceful kill's grace period: when the mesh ends the session unless the agent acks sooner.</summary>
    public DateTimeOffset? TerminatingUntil { get; init; }
    public Dictionary<string, string> Labels { get; init; } = [];
    public List<string> Specializations { get; init; } = [];
    /// <summary>On a join: the session this one replaced.</summary>
    public string? SupersededSessionId { get; init; }
}

/// <summary>Answer to a heartbeat. A value, so the server answers a heartbeat without allocating one.</summary>
public readonly record struct HeartbeatResponse
{
    public required string SessionId { get; init; }
    public required SessionStatus Status { get; init; }
    public required int Ttl { get; init; }
    public double? Load { get; init; }
    public required DateTimeOffset LastSeen { get; init; }
    public required DateTimeOffset ExpiresAt { get; init; }
}
