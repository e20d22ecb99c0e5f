using SessionMesh.Model;

namespace SessionMesh.Store.Sqlite;

/// <summary>
/// <see cref="SessionRecord.StatusAt(DateTimeOffset)"/> in SQL, over the outer <c>sessions</c> row and a <c>@now</c>
/// parameter in unix milliseconds. An open session is active, idle or stalled up to and including its
/// <c>expires_at</c>, stale up to and including the end of its grace (one more TTL), and counts as
/// expired after that even before the sweep ends it.
/// </summary>
internal static class SessionStatusSql
{
    private const string Open = "sessions.end_status IS NULL";
    private const string GraceEnd = "sessions.expires_at + sessions.ttl * 1000";

    // No counter grew for stall_after seconds (since the start, before any report).
    private const string NoProgress =
        "(sessions.stall_after IS NOT NULL AND @now > COALESCE(sessions.progressed_at, sessions.started_at) + sessions.stall_after * 1000)";

    public const string Alive = "(" + Open + " AND @now <= sessions.expires_at)";
    public const string Active = "(" + Open + " AND @now <= sessions.expires_at AND sessions.idle = 0 AND NOT " + NoProgress + ")";
    public const string Stalled = "(" + Open + " AND @now <= sessions.expires_at AND sessions.idle = 0 AND " + NoProgress + ")";
    public const string Idle = "(" + Open + " AND @now <= sessions.expires_at AND sessions.idle <> 0)";
    public const string Stale = "(" + Open + " AND @now > sessions.expires_at AND @now <= " + GraceEnd + ")";
    public const string Ended = "(sessions.end_status IS NOT NULL OR @now > " + GraceEnd + ")";

    /// <summary>Open and not past its grace: alive or stale.</summary>
    public const string Live = "(" + Open + " AND @now <= " + GraceEnd + ")";

    /// <summary>Alive, while the agent's parent has no open session that is alive or stale.</summary>
    public const string Orphaned = "(" + Alive + """
         AND EXISTS (
            SELECT 1 FROM agents a
            WHERE a.cluster = sessions.cluster AND a.agent_id = sessions.agent_id AND a.parent_id IS NOT NULL
              AND NOT EXISTS (
                SELECT 1 FROM agents pa JOIN sessions p ON p.session_id = pa.latest_session_id
                WHERE pa.cluster = a.cluster AND pa.agent_id = a.parent_id AND p.end_status IS NULL
                  AND @now <= p.expires_at + p.ttl * 1000)))
        """;

    public static string For(StatusFilter filter) => filter switch
    {
        StatusFilter.Alive => Alive,
        StatusFilter.Active => Active,
        StatusFilter.Idle => Idle,
        StatusFilter.Stalled => Stalled,
        StatusFilter.Stale => Stale,
        StatusFilter.Ended => Ended,
        StatusFilter.Orphaned => Orphaned,
        StatusFilter.All => "1 = 1",
        _ => throw new ArgumentOutOfRangeException(nameof(filter), filter, "Unknown status filter."),
    };
}
