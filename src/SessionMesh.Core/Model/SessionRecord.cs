namespace SessionMesh.Model;

/// <summary>One lease of an agent, as stored.</summary>
/// <param name="EndStatus">The terminal status once ended; null while open.</param>
/// <param name="Idle">The agent's last reported state: idle rather than active.</param>
/// <param name="StaleNotified">Whether the <c>session.stale</c> event was emitted for the current lapse.</param>
/// <param name="ExitCode">The exit code of the agent's process, when it left saying so.</param>
public sealed record SessionRecord(
    string SessionId,
    string Cluster,
    string AgentId,
    int Ttl,
    DateTimeOffset StartedAt,
    DateTimeOffset LastSeen,
    DateTimeOffset ExpiresAt,
    double? Load,
    bool Idle,
    int? MaxRuntime,
    SessionStatus? EndStatus = null,
    DateTimeOffset? EndedAt = null,
    string? EndReason = null,
    bool StaleNotified = false,
    int? ExitCode = null)
{
    /// <summary>True until the session reaches a terminal status in the store.</summary>
    public bool IsOpen => EndStatus is null;

    /// <summary>The end of the grace after the TTL: past it an open session is expired.</summary>
    public DateTimeOffset GraceEndsAt => ExpiresAt.AddSeconds(Ttl);

    /// <summary>The status at <paramref name="now"/>, derived from the stored lease.</summary>
    public SessionStatus StatusAt(DateTimeOffset now)
    {
        if (EndStatus is { } ended)
        {
            return ended;
        }
        if (now <= ExpiresAt)
        {
            return Idle ? SessionStatus.Idle : SessionStatus.Active;
        }
        return now <= GraceEndsAt ? SessionStatus.Stale : SessionStatus.Expired;
    }
}
