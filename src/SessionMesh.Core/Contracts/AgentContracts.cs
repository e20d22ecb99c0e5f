using SessionMesh.Model;

namespace SessionMesh.Contracts;

/// <summary>An agent with its open session, specializations and children.</summary>
public sealed record AgentView
{
    public required string AgentId { get; init; }
    public required string Cluster { get; init; }
    public string? ParentId { get; init; }
    /// <summary>The status of the agent's latest session; null when it never joined.</summary>
    public SessionStatus? Status { get; init; }
    public bool Alive { get; init; }
    /// <summary>Inside a graceful kill's grace period: when the mesh ends the session unless the agent acks sooner.</summary>
    public DateTimeOffset? TerminatingUntil { get; init; }
    /// <summary>The exit code the agent's process left its latest session with, if it gave one.</summary>
    public int? ExitCode { get; init; }
    public Dictionary<string, string> Labels { get; init; } = [];
    /// <summary>The open session, if any.</summary>
    public SessionView? Session { get; init; }
    public List<SpecializationView> Specializations { get; init; } = [];
    public List<string> Children { get; init; } = [];
    public required DateTimeOffset CreatedAt { get; init; }
}

/// <summary>One node of <c>GET /agents/{id}/tree</c>.</summary>
public sealed record AgentTreeNode
{
    public required string AgentId { get; init; }
    public string? ParentId { get; init; }
    public SessionStatus? Status { get; init; }
    public bool Alive { get; init; }
    /// <summary>Inside a graceful kill's grace period: when the mesh ends the session unless the agent acks sooner.</summary>
    public DateTimeOffset? TerminatingUntil { get; init; }
    public string? SessionId { get; init; }
    public List<AgentTreeNode> Children { get; init; } = [];
}

/// <summary>Body of <c>PUT /agents/{agent_id}</c>: declares an agent before it joins, or updates its place in the fleet.</summary>
public sealed record DeclareAgentRequest
{
    /// <summary>The agent that spawns (or will spawn) this one; it must be known. Absent: unchanged.</summary>
    public string? ParentId { get; init; }
    /// <summary>Labels replacing the agent's labels. Absent: unchanged.</summary>
    public Dictionary<string, string>? Labels { get; init; }
    public string? Cluster { get; init; }
}

/// <summary>An agent's usage against its budget: <c>GET /agents/{agent_id}/usage</c>.</summary>
public sealed record UsageView
{
    public required string AgentId { get; init; }
    public string? SessionId { get; init; }
    public SessionStatus? Status { get; init; }
    /// <summary>What the agent's latest session reported itself.</summary>
    public required AgentProgress Own { get; init; }
    /// <summary>Its own and every descendant's latest reports, added up.</summary>
    public required AgentProgress RolledUp { get; init; }
    /// <summary>The budget of its latest session, if any.</summary>
    public AgentBudget? Budget { get; init; }
    /// <summary>With a budget: the usage counted against it (reports since the budget was set, the sub-tree's included).</summary>
    public AgentProgress? Charged { get; init; }
    /// <summary>With a budget: what is left of each limited counter.</summary>
    public AgentBudget? Left { get; init; }
    /// <summary>With a budget: the largest share of a limit used, 0..1 and beyond.</summary>
    public double? UsedShare { get; init; }
    /// <summary>With a budget: <c>warned</c> or <c>exceeded</c> once raised.</summary>
    public string? Alert { get; init; }
    /// <summary>With <c>tree=true</c>: the same for each child.</summary>
    public List<UsageView>? Children { get; init; }
}
