using SessionMesh.Model;

namespace SessionMesh.Store.Postgres;

/// <summary>
/// <see cref="SessionRecord.StatusAt(DateTimeOffset)"/> in SQL, over the outer <c>sessions</c> row and a <c>@now</c> parameter in unix
/// milliseconds: the SQLite store's expressions, in PostgreSQL's types (booleans, BIGINT arithmetic).
/// </summary>
internal static class SessionStatusSql
{
    private const string Open = "sessions.end_status IS NULL";
    private const string GraceEnd = "sessions.expires_at + sessions.ttl * 1000::BIGINT";

    // No counter grew for stall_after seconds (since the start, before any report).
    private const string NoProgress =
        "(sessions.stall_after IS NOT NULL AND @now > COALESCE(sessions.progressed_at, sessions.started_at) + sessions.stall_after * 1000::BIGINT)";

    public const string Alive = "(" + Open + " AND @now <= sessions.expires_at)";
    public const string Active = "(" + Open + " AND @now <= sessions.expires_at AND NOT sessions.idle AND NOT " + NoProgress + ")";
    public const string Stalled = "(" + Open + " AND @now <= sessions.expires_at AND NOT sessions.idle AND " + NoProgress + ")";
    public const string Idle = "(" + Open + " AND @now <= sessions.expires_at AND sessions.idle)";
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
                SELECT 1 FROM sessions p
                WHERE p.cluster = a.cluster AND p.agent_id = a.parent_id AND p.end_status IS NULL
                  AND @now <= p.expires_at + p.ttl * 1000::BIGINT)))
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
        StatusFilter.All => "TRUE",
        _ => throw new ArgumentOutOfRangeException(nameof(filter), filter, "Unknown status filter."),
    };
}
