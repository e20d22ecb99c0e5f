namespace SessionMesh.Model;

/// <summary>
/// A named lock of a cluster, held by one open session. A row outlives its holder only while a lock-delay runs:
/// <see cref="ReleasedAt"/> is then set, and nobody may take the lock before <see cref="DelayUntil"/>.
/// </summary>
/// <param name="Revision">The revision of the <c>lock.acquired</c> event of this holding.</param>
/// <param name="LockDelay">Seconds the lock stays untakeable after its holder's session ends (not after a release).</param>
public sealed record LockRecord(
    string Cluster,
    string Name,
    string SessionId,
    string AgentId,
    DateTimeOffset AcquiredAt,
    DateTimeOffset? ExpiresAt,
    int? Ttl,
    int LockDelay,
    IReadOnlyDictionary<string, string> Metadata,
    long Revision,
    DateTimeOffset? ReleasedAt = null,
    DateTimeOffset? DelayUntil = null)
{
    /// <summary>True while a session holds it; false while only its lock-delay keeps it.</summary>
    public bool IsHeld => ReleasedAt is null;
}
