namespace SessionMesh.Contracts;

/// <summary>Body of <c>POST /locks</c>: a session takes a named lock.</summary>
public sealed record AcquireLockRequest
{
    /// <summary>The lock's name, unique in the session's cluster: 1-256 characters, <c>/</c>-separated segments (<c>repo/main</c>).</summary>
    public string? Name { get; init; }
    /// <summary>The open session that holds the lock; the lock is released when it ends.</summary>
    public string? SessionId { get; init; }
    /// <summary>Seconds after which the lock is released even if the session is still open; none by default.</summary>
    public int? Ttl { get; init; }
    /// <summary>Free-form string pairs shown with the lock (what it guards, by whom).</summary>
    public Dictionary<string, string>? Metadata { get; init; }
    /// <summary>Seconds to wait for a held lock to come free, 0..300; 0 (default) answers 409 at once.</summary>
    public int? Wait { get; init; }
    /// <summary>Seconds, 0..60 (default 0), during which nobody may take the lock after its holder's session ended.</summary>
    public int? LockDelay { get; init; }
}

/// <summary>A lock: who holds it, since when, until when. In a <c>lock.released</c> event, also how it ended.</summary>
public sealed record LockView
{
    public required string Name { get; init; }
    public required string Cluster { get; init; }
    /// <summary>The holding session.</summary>
    public required string SessionId { get; init; }
    /// <summary>The agent of the holding session.</summary>
    public required string AgentId { get; init; }
    public required DateTimeOffset AcquiredAt { get; init; }
    /// <summary>When the lock's own TTL releases it, if it has one.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }
    public int? Ttl { get; init; }
    public required int LockDelay { get; init; }
    public required Dictionary<string, string> Metadata { get; init; }
    /// <summary>
    /// The revision of the <c>lock.acquired</c> event of this holding: a fencing token that grows with each new holder.
    /// Left out of the <c>lock.acquired</c> event's own data, whose revision it is.
    /// </summary>
    public long? Revision { get; init; }
    /// <summary>Released events only: when.</summary>
    public DateTimeOffset? ReleasedAt { get; init; }
    /// <summary>Released events only: <c>released</c>, <c>ttl_elapsed</c>, or <c>session_left|expired|killed|superseded</c>.</summary>
    public string? ReleaseReason { get; init; }
    /// <summary>Released events only: the end reason of the holding session, when it ended (e.g. <c>max_runtime_exceeded</c>).</summary>
    public string? SessionEndReason { get; init; }
    /// <summary>Released events only: nobody may take the lock before this time (its lock-delay).</summary>
    public DateTimeOffset? DelayedUntil { get; init; }
}
