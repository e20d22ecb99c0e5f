namespace SessionMesh.Store.Postgres;

/// <summary>
/// The PostgreSQL schema, as an ordered list of scripts. Each runs once, in its own transaction, recorded in
/// <c>schema_migrations</c>, all under one advisory lock (<see cref="PostgresMeshStore.MigrateAsync"/>) so replicas
/// starting together migrate once. Never edit a shipped script: append a new version.
/// </summary>
/// <remarks>
/// Conventions, as in the SQLite store so the two read alike: times are BIGINT unix milliseconds (UTC), a TTL is
/// in seconds (expressions multiply it by 1000). Labels are JSONB (a selector is <c>labels -&gt;&gt; key = value</c>),
/// tags a text array, payloads, results and event data JSON text kept byte for byte as written.
/// Event revisions come from the <c>mesh_counters</c> row <c>revision</c>, moved in the writing transaction under the
/// store's write lock: a revision is visible only once every lower one is (no late-committing gap), and a rolled-back
/// write gives its number back.
/// </remarks>
internal static class PostgresMigrations
{
    /// <summary>One schema step.</summary>
    internal sealed record Migration(int Version, string Name, string Sql);

    /// <summary>Every migration, in version order.</summary>
    public static IReadOnlyList<Migration> All { get; } =
    [
        new(1, "initial", V1Initial),
        new(2, "exit code, progress, stalls and budgets", V2Progress),
        new(3, "session-bound locks", V3Locks),
        new(4, "webhooks", V4Webhooks),
        new(5, "A2A agent cards", V5AgentCards),
        new(6, "budget charges in the store", V6Charged),
        new(7, "no expiry index", V7NoExpiryIndex),
    ];

    /// <summary>Created outside the versioned list, since it records the list.</summary>
    public const string CreateHistoryTable = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version    INTEGER PRIMARY KEY,
            name       TEXT NOT NULL,
            applied_at BIGINT NOT NULL
        );
        """;

    private const string V1Initial = """
        CREATE TABLE agents (
            cluster    TEXT NOT NULL,
            agent_id   TEXT NOT NULL,
            parent_id  TEXT,
            labels     JSONB NOT NULL DEFAULT '{}',
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL,
            PRIMARY KEY (cluster, agent_id)
        );
        CREATE INDEX ix_agents_parent ON agents (cluster, parent_id, agent_id) WHERE parent_id IS NOT NULL;

        CREATE TABLE sessions (
            session_id     TEXT PRIMARY KEY,
            cluster        TEXT NOT NULL,
            agent_id       TEXT NOT NULL,
            ttl            INTEGER NOT NULL,
            started_at     BIGINT NOT NULL,
            last_seen      BIGINT NOT NULL,
            expires_at     BIGINT NOT NULL,
            load           DOUBLE PRECISION,
            idle           BOOLEAN NOT NULL DEFAULT FALSE,
            max_runtime    INTEGER,
            end_status     TEXT CHECK (end_status IS NULL OR end_status IN ('expired', 'left', 'killed', 'superseded')),
            ended_at       BIGINT,
            end_reason     TEXT,
            stale_notified BOOLEAN NOT NULL DEFAULT FALSE
        );
        CREATE UNIQUE INDEX ux_sessions_open_agent ON sessions (cluster, agent_id) WHERE end_status IS NULL;
        CREATE INDEX ix_sessions_cluster ON sessions (cluster, session_id);
        CREATE INDEX ix_sessions_agent ON sessions (cluster, agent_id, started_at);
        CREATE INDEX ix_sessions_open_expires ON sessions (expires_at) WHERE end_status IS NULL;
        CREATE INDEX ix_sessions_open_runtime ON sessions ((started_at + max_runtime * 1000::BIGINT), session_id)
            WHERE end_status IS NULL AND max_runtime IS NOT NULL;

        CREATE TABLE specializations (
            cluster       TEXT NOT NULL,
            agent_id      TEXT NOT NULL,
            name          TEXT NOT NULL,
            description   TEXT,
            tags          TEXT[] NOT NULL DEFAULT '{}',
            version       TEXT,
            registered_at BIGINT NOT NULL,
            PRIMARY KEY (cluster, agent_id, name)
        );
        CREATE INDEX ix_specializations_name ON specializations (cluster, name, agent_id);

        CREATE TABLE api_keys (
            key_id       TEXT PRIMARY KEY,
            secret_hash  BYTEA NOT NULL,
            cluster      TEXT NOT NULL,
            scopes       INTEGER NOT NULL,
            agent_id     TEXT,
            name         TEXT,
            created_at   BIGINT NOT NULL,
            expires_at   BIGINT,
            revoked_at   BIGINT,
            created_by   TEXT,
            rotated_from TEXT,
            limit_at     BIGINT
        );
        CREATE INDEX ix_api_keys_cluster ON api_keys (cluster, key_id);

        -- The highest number given out of each counter; 'revision' numbers the events.
        CREATE TABLE mesh_counters (
            name  TEXT PRIMARY KEY,
            value BIGINT NOT NULL
        );
        INSERT INTO mesh_counters (name, value) VALUES ('revision', 0);

        CREATE TABLE events (
            revision   BIGINT PRIMARY KEY,
            cluster    TEXT NOT NULL,
            type       TEXT NOT NULL,
            at         BIGINT NOT NULL,
            agent_id   TEXT,
            session_id TEXT,
            data       TEXT,
            size       BIGINT NOT NULL
        );
        CREATE INDEX ix_events_cluster ON events (cluster, revision);
        CREATE INDEX ix_events_at ON events (at, revision);

        CREATE TABLE audit_log (
            id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            at      BIGINT NOT NULL,
            key_id  TEXT NOT NULL,
            cluster TEXT NOT NULL,
            method  TEXT NOT NULL,
            path    TEXT NOT NULL,
            status  INTEGER NOT NULL,
            code    TEXT
        );
        CREATE INDEX ix_audit_log_cluster ON audit_log (cluster, id);

        CREATE TABLE commands (
            command_id      TEXT PRIMARY KEY,
            cluster         TEXT NOT NULL,
            agent_id        TEXT NOT NULL,
            kind            TEXT NOT NULL CHECK (kind IN ('steer', 'message', 'kill')),
            status          TEXT NOT NULL CHECK (status IN ('queued', 'delivered', 'acked', 'rejected', 'failed', 'expired')),
            sequence        BIGINT NOT NULL,
            direction       TEXT,
            mode            TEXT,
            text            TEXT,
            from_agent      TEXT,
            reason          TEXT,
            grace_period    INTEGER,
            payload         TEXT,
            result          TEXT,
            created_at      BIGINT NOT NULL,
            delivered_at    BIGINT,
            completed_at    BIGINT,
            deadline_at     BIGINT,
            created_by      TEXT NOT NULL,
            idempotency_key TEXT,
            delivery_count  INTEGER NOT NULL DEFAULT 0,
            size            BIGINT GENERATED ALWAYS AS (
                200 + COALESCE(octet_length(payload), 0) + COALESCE(octet_length(result), 0)
                    + COALESCE(octet_length(direction), 0) + COALESCE(octet_length(text), 0)) STORED,
            UNIQUE (cluster, agent_id, sequence)
        );
        CREATE UNIQUE INDEX ux_commands_idempotency ON commands (created_by, idempotency_key) WHERE idempotency_key IS NOT NULL;
        CREATE INDEX ix_commands_pending ON commands (cluster, agent_id, sequence) WHERE status IN ('queued', 'delivered');
        CREATE INDEX ix_commands_due ON commands (deadline_at, command_id)
            WHERE status IN ('queued', 'delivered') AND deadline_at IS NOT NULL;
        CREATE INDEX ix_commands_pending_kill ON commands (cluster, agent_id) WHERE kind = 'kill' AND status IN ('queued', 'delivered');
        CREATE INDEX ix_commands_completed ON commands (completed_at, command_id)
            WHERE status IN ('acked', 'rejected', 'failed', 'expired');

        CREATE TABLE command_sequences (
            cluster       TEXT NOT NULL,
            agent_id      TEXT NOT NULL,
            last_sequence BIGINT NOT NULL,
            PRIMARY KEY (cluster, agent_id)
        );

        -- What a store that ran out of space writes to learn whether it has room again.
        CREATE TABLE storage_probe (
            id     INTEGER PRIMARY KEY,
            filler TEXT
        );
        """;

    /// <summary>
    /// The SQLite store's migrations 5 and 6 in one step: the exit code a session left with; progress (the last report as
    /// JSON text, when a counter last grew), the stall limit in seconds and what to do at it, whether the current stall
    /// was announced; budgets: the limits and the usage charged to them (JSON text), the sessions whose budgets a
    /// session's reports count against, and the alert raised.
    /// </summary>
    private const string V2Progress = """
        ALTER TABLE sessions
            ADD COLUMN exit_code      INTEGER,
            ADD COLUMN progress       TEXT,
            ADD COLUMN progressed_at  BIGINT,
            ADD COLUMN stall_after    INTEGER,
            ADD COLUMN on_stall       TEXT,
            ADD COLUMN stall_notified BOOLEAN NOT NULL DEFAULT FALSE,
            ADD COLUMN budget         TEXT,
            ADD COLUMN budget_used    TEXT,
            ADD COLUMN charge_to      TEXT[],
            ADD COLUMN budget_alert   TEXT;
        """;

    /// <summary>
    /// The SQLite store's migration 10: budgets are charged in the store, so each session keeps its counters as far as
    /// they are charged to its budgets (JSON text), and a report through any replica charges only their growth since.
    /// </summary>
    private const string V6Charged = """
        ALTER TABLE sessions ADD COLUMN charged TEXT;
        """;

    /// <summary>
    /// Expiry reads each replica's lease table, so no query scans open sessions by expiry any more. Without the index a
    /// lease checkpoint changes no indexed column, so its updates can be heap-only (HOT): no index is written at all.
    /// </summary>
    private const string V7NoExpiryIndex = """
        DROP INDEX IF EXISTS ix_sessions_open_expires;
        """;

    // TEXT, not JSONB: the card is served back as it was given (JSONB would reorder its members and drop duplicates).
    private const string V5AgentCards = """
        CREATE TABLE agent_cards (
            cluster    TEXT NOT NULL,
            agent_id   TEXT NOT NULL,
            card       TEXT NOT NULL,
            updated_at BIGINT NOT NULL,
            PRIMARY KEY (cluster, agent_id)
        );
        """;

    /// <summary>
    /// Session-bound locks (the SQLite store's migration 7): one row per (cluster, name), so two holders of one lock
    /// cannot both be written. A row whose holder's session ended stays, released, until its lock-delay ends.
    /// </summary>
    private const string V3Locks = """
        CREATE TABLE locks (
            cluster     TEXT NOT NULL,
            name        TEXT NOT NULL COLLATE "C",
            session_id  TEXT NOT NULL,
            agent_id    TEXT NOT NULL,
            acquired_at BIGINT NOT NULL,
            expires_at  BIGINT,
            ttl         INTEGER,
            lock_delay  INTEGER NOT NULL DEFAULT 0,
            metadata    JSONB NOT NULL DEFAULT '{}',
            revision    BIGINT NOT NULL,
            released_at BIGINT,
            delay_until BIGINT,
            PRIMARY KEY (cluster, name)
        );
        -- The locks a session holds, released when it ends.
        CREATE INDEX ix_locks_session ON locks (session_id) WHERE released_at IS NULL;
        -- The lock TTL sweep.
        CREATE INDEX ix_locks_expires ON locks (expires_at) WHERE released_at IS NULL AND expires_at IS NOT NULL;
        -- Lock-delays that ended.
        CREATE INDEX ix_locks_delay ON locks (delay_until) WHERE released_at IS NOT NULL;
        """;

    /// <summary>The SQLite store's migration 8: webhooks (patterns and labels as JSON text, the signing secret, state, cursor, retry counters) and their recent delivery attempts.</summary>
    private const string V4Webhooks = """
        CREATE TABLE webhooks (
            webhook_id     TEXT PRIMARY KEY,
            cluster        TEXT NOT NULL,
            url            TEXT NOT NULL,
            events         TEXT NOT NULL,
            labels         TEXT NOT NULL,
            specialization TEXT,
            description    TEXT,
            secret         TEXT NOT NULL,
            created_at     BIGINT NOT NULL,
            created_by     TEXT,
            state          TEXT NOT NULL,
            cursor         BIGINT NOT NULL,
            attempts       INTEGER NOT NULL DEFAULT 0,
            retrying_since BIGINT,
            last_error     TEXT
        );
        CREATE INDEX ix_webhooks_cluster ON webhooks (cluster, webhook_id);

        CREATE TABLE webhook_deliveries (
            id          BIGSERIAL PRIMARY KEY,
            webhook_id  TEXT NOT NULL,
            revision    BIGINT NOT NULL,
            event_type  TEXT NOT NULL,
            delivery_id TEXT NOT NULL,
            attempt     INTEGER NOT NULL,
            status_code INTEGER,
            error       TEXT,
            latency_ms  BIGINT NOT NULL,
            at          BIGINT NOT NULL
        );
        CREATE INDEX ix_webhook_deliveries ON webhook_deliveries (webhook_id, id);
        """;
}
