namespace SessionMesh.Store.Sql;

/// <summary>Session-bound locks: the same statements on SQLite and PostgreSQL (one row per (cluster, name)). Compiled into both stores.</summary>
internal static class LockSql
{
    internal const string LockColumns =
        "locks.cluster, locks.name, locks.session_id, locks.agent_id, locks.acquired_at, locks.expires_at, locks.ttl, " +
        "locks.lock_delay, locks.metadata, locks.revision, locks.released_at, locks.delay_until";

    internal const string SelectLockSql = $"SELECT {LockColumns} FROM locks WHERE locks.cluster = @cluster AND locks.name = @name";

    internal const string SelectLocksPage = $"""
        SELECT {LockColumns} FROM locks
        WHERE locks.cluster = @cluster AND locks.released_at IS NULL AND locks.name > @after
        ORDER BY locks.name
        LIMIT @limit
        """;

    internal const string SelectLocksHeldBy = $"""
        SELECT {LockColumns} FROM locks
        WHERE locks.session_id = @session_id AND locks.released_at IS NULL
        ORDER BY locks.cluster, locks.name
        """;

    internal const string SelectExpiredLocks = $"""
        SELECT {LockColumns} FROM locks
        WHERE locks.released_at IS NULL AND locks.expires_at IS NOT NULL AND locks.expires_at <= @now
        ORDER BY locks.expires_at, locks.cluster, locks.name
        LIMIT @limit
        """;

    internal const string UpsertLockSql = """
        INSERT INTO locks (cluster, name, session_id, agent_id, acquired_at, expires_at, ttl, lock_delay, metadata, revision,
                           released_at, delay_until)
        VALUES (@cluster, @name, @session_id, @agent_id, @acquired_at, @expires_at, @ttl, @lock_delay, @metadata, @revision,
                @released_at, @delay_until)
        ON CONFLICT (cluster, name) DO UPDATE
        SET session_id = excluded.session_id, agent_id = excluded.agent_id, acquired_at = excluded.acquired_at,
            expires_at = excluded.expires_at, ttl = excluded.ttl, lock_delay = excluded.lock_delay,
            metadata = excluded.metadata, revision = excluded.revision, released_at = excluded.released_at,
            delay_until = excluded.delay_until
        """;

    internal const string DeleteLockSql = "DELETE FROM locks WHERE cluster = @cluster AND name = @name";

    internal const string DeleteLapsedDelaysSql = "DELETE FROM locks WHERE released_at IS NOT NULL AND delay_until <= @now";
}
