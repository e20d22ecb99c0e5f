using Microsoft.Extensions.Logging;

namespace SessionMesh.Mesh;

/// <summary>What the mesh tells an operator, as source-generated log messages. Never a secret: keys by id only.</summary>
internal static partial class MeshLog
{
    [LoggerMessage(Level = LogLevel.Debug, Message = "Agent {Cluster}/{AgentId} joined as session {SessionId} (ttl {Ttl} s)")]
    public static partial void Joined(ILogger logger, string cluster, string agentId, string sessionId, int ttl);

    [LoggerMessage(Level = LogLevel.Information, Message = "Agent {Cluster}/{AgentId} joined again: session {SessionId} superseded")]
    public static partial void Superseded(ILogger logger, string cluster, string agentId, string sessionId);

    // Debug: a fleet whose leases lapse together expires thousands at once; the sweeper logs how many it changed.
    [LoggerMessage(Level = LogLevel.Debug, Message = "Session {SessionId} of {Cluster}/{AgentId} expired: its lease and grace passed")]
    public static partial void Expired(ILogger logger, string cluster, string agentId, string sessionId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} of {Cluster}/{AgentId} killed: {Reason}")]
    public static partial void Killed(ILogger logger, string cluster, string agentId, string sessionId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} of {Cluster}/{AgentId} stalled: {Stalled}")]
    public static partial void StallChanged(ILogger logger, string cluster, string agentId, string sessionId, bool stalled);

    [LoggerMessage(Level = LogLevel.Information, Message = "Budget of {Cluster}/{AgentId} (session {SessionId}): {Alert}")]
    public static partial void BudgetAlert(ILogger logger, string cluster, string agentId, string sessionId, string alert);

    [LoggerMessage(Level = LogLevel.Information, Message = "Kill of {Cluster}/{AgentId} by key {KeyId} (force {Force}, cascade {Cascade}): {Count} agents")]
    public static partial void KillRequested(ILogger logger, string cluster, string agentId, string keyId, bool force, bool cascade, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Key {KeyId} of cluster {Cluster} revoked by key {By}")]
    public static partial void KeyRevoked(ILogger logger, string cluster, string keyId, string by);

    [LoggerMessage(Level = LogLevel.Information, Message = "Key {KeyId} of cluster {Cluster} rotated into {SuccessorId} by key {By}")]
    public static partial void KeyRotated(ILogger logger, string cluster, string keyId, string successorId, string by);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Command stream of {Cluster}/{AgentId} attached (session {SessionId})")]
    public static partial void StreamAttached(ILogger logger, string cluster, string agentId, string sessionId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Command stream of {Cluster}/{AgentId} detached (session {SessionId})")]
    public static partial void StreamDetached(ILogger logger, string cluster, string agentId, string sessionId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Command stream of {Cluster}/{AgentId} ended ({Code}, session {SessionId})")]
    public static partial void StreamEnded(ILogger logger, string cluster, string agentId, string sessionId, string code);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Recording the delivery of {Count} commands failed; they stay queued and are handed out again on the agent's next stream")]
    public static partial void DeliveryWriteFailed(ILogger logger, int count, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Retention deleted {Events} events (through revision {Revision}) and {Commands} completed commands; the store went from {BytesBefore} to {BytesAfter} bytes")]
    public static partial void Retained(ILogger logger, int events, long revision, int commands, long bytesBefore, long bytesAfter);

    [LoggerMessage(Level = LogLevel.Information, Message = "This server leads expiry now; extended {Count} open leases by their TTL")]
    public static partial void GainedLead(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "This server no longer leads expiry")]
    public static partial void LostLead(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not read what another replica committed; watchers read the store until the next try")]
    public static partial void ReplicaCatchUpFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Expiring} of {Open} open sessions are due to expire at once; holding back all but {Applied} this sweep (Mesh:ExpiryBurstFraction)")]
    public static partial void ExpiryBurstHeldBack(ILogger logger, int expiring, int open, int applied);
}
