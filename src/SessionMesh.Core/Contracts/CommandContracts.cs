using System.Text.Json;

namespace SessionMesh.Contracts;

/// <summary>Body of <c>POST /steer</c>.</summary>
public sealed record SteerRequest
{
    public string? AgentId { get; init; }
    /// <summary>The directive, 1..4000 characters.</summary>
    public string? Direction { get; init; }
    /// <summary><c>inject</c> (default), <c>interrupt</c> or <c>enqueue</c>.</summary>
    public string? Mode { get; init; }
    /// <summary>Any JSON handed to the agent with the directive.</summary>
    public JsonElement? Payload { get; init; }
    /// <summary>Seconds the command may wait undelivered before it expires.</summary>
    public int? Ttl { get; init; }
    /// <summary>Queue the command for an agent that is not alive instead of answering 409.</summary>
    public bool? QueueIfOffline { get; init; }
    public string? Cluster { get; init; }
}

/// <summary>Body of <c>POST /agents/{id}/messages</c>.</summary>
public sealed record MessageRequest
{
    /// <summary>The message text, 1..4000 characters.</summary>
    public string? Text { get; init; }
    public JsonElement? Payload { get; init; }
    /// <summary>The sending agent, when an agent writes to another.</summary>
    public string? From { get; init; }
    public int? Ttl { get; init; }
    public bool? QueueIfOffline { get; init; }
}

/// <summary>Body of <c>POST /agents/{id}/commands/{command_id}/ack</c>.</summary>
public sealed record AckRequest
{
    /// <summary><c>acked</c>, <c>rejected</c> or <c>failed</c>.</summary>
    public string? Status { get; init; }
    public JsonElement? Result { get; init; }
}

/// <summary>A command and where it stands.</summary>
public sealed record CommandView
{
    public required string CommandId { get; init; }
    public required string AgentId { get; init; }
    public required string Cluster { get; init; }
    /// <summary><c>steer</c>, <c>kill</c> or <c>message</c>.</summary>
    public required string Kind { get; init; }
    /// <summary><c>queued</c>, <c>delivered</c>, <c>acked</c>, <c>rejected</c>, <c>failed</c> or <c>expired</c>.</summary>
    public required string Status { get; init; }
    /// <summary>Position in the agent's stream: strictly increasing per agent.</summary>
    public required long Sequence { get; init; }
    public string? Direction { get; init; }
    public string? Mode { get; init; }
    public string? Text { get; init; }
    public string? From { get; init; }
    public string? Reason { get; init; }
    public int? GracePeriod { get; init; }
    public JsonElement? Payload { get; init; }
    public JsonElement? Result { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? DeliveredAt { get; init; }
    public DateTimeOffset? CompletedAt { get; init; }
    public DateTimeOffset? ExpiresAt { get; init; }
    public string? CreatedBy { get; init; }
}

/// <summary>Answer to <c>DELETE /agents/{id}</c>.</summary>
public sealed record KillResponse
{
    public required string AgentId { get; init; }
    /// <summary><c>killing</c> (graceful, in progress), <c>killed</c> or <c>already_ended</c>.</summary>
    public required string Status { get; init; }
    public string? Reason { get; init; }
    public bool Force { get; init; }
    public bool Cascade { get; init; }
    /// <summary><c>cascade</c> (the whole sub-tree) or <c>orphan</c> (the agent only).</summary>
    public string Propagation { get; init; } = "cascade";
    public int GracePeriod { get; init; }
    /// <summary>Every agent killed or being killed by this call, the target first.</summary>
    public List<KilledAgent> Killed { get; init; } = [];
    /// <summary>Children left alive and orphaned when cascade is off.</summary>
    public List<string> Orphaned { get; init; } = [];
}

/// <summary>One agent a kill reached.</summary>
public sealed record KilledAgent
{
    public required string AgentId { get; init; }
    public string? SessionId { get; init; }
    public string? CommandId { get; init; }
    /// <summary><c>killing</c> or <c>killed</c>.</summary>
    public required string Status { get; init; }
    /// <summary>For <c>killing</c>: when the mesh ends the session unless the agent acks sooner (an earlier kill's, when one was pending).</summary>
    public DateTimeOffset? Deadline { get; init; }
}

/// <summary>One event of <c>GET /events</c>.</summary>
public sealed record EventView
{
    public required long Revision { get; init; }
    public required string Type { get; init; }
    public required string Cluster { get; init; }
    public required DateTimeOffset At { get; init; }
    public string? AgentId { get; init; }
    public string? SessionId { get; init; }
    public JsonElement? Data { get; init; }
}

/// <summary>The topology as JSON: nodes and parent→child edges.</summary>
public sealed record TopologyView
{
    public required string Cluster { get; init; }
    /// <summary>True when the cluster has more agents than the answer holds (<c>max_agents</c>): the first ones by id are shown.</summary>
    public bool? Truncated { get; init; }
    public List<TopologyNode> Nodes { get; init; } = [];
    public List<TopologyEdge> Edges { get; init; } = [];
}

public sealed record TopologyNode
{
    public required string AgentId { get; init; }
    public string? ParentId { get; init; }
    public string? Status { get; init; }
    public bool Alive { get; init; }
    /// <summary>Inside a graceful kill's grace period: when the mesh ends the session unless the agent acks sooner.</summary>
    public DateTimeOffset? TerminatingUntil { get; init; }
    public bool Orphaned { get; init; }
    public List<string> Specializations { get; init; } = [];
}

public sealed record TopologyEdge
{
    public required string From { get; init; }
    public required string To { get; init; }
}

/// <summary>
/// The last frame of a command stream (<c>event: end</c>), after which the stream closes: the session ended
/// (<c>code</c> <c>session_ended</c>), or the key the stream was opened with was revoked or expired
/// (<c>key_revoked</c>, <c>key_expired</c>; the session stays open until its lease runs out).
/// </summary>
public sealed record StreamEnd
{
    public required string SessionId { get; init; }
    /// <summary>The session's status when the stream ended.</summary>
    public required Model.SessionStatus Status { get; init; }
    /// <summary>Why, for people and logs.</summary>
    public string? Reason { get; init; }
    /// <summary>Why, as a stable code: <c>session_ended</c>, <c>key_revoked</c> or <c>key_expired</c>.</summary>
    public string? Code { get; init; }
}

/// <summary>The last frame of an event watch (<c>event: end</c>): the key it was opened with was revoked or expired.</summary>
public sealed record WatchEnd
{
    /// <summary><c>key_revoked</c> or <c>key_expired</c>.</summary>
    public required string Code { get; init; }
    public string? Reason { get; init; }
}
