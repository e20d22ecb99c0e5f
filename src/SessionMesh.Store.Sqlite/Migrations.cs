namespace SessionMesh.Store.Sqlite;

/// <summary>
/// The schema, as an ordered list of scripts. Each runs once, in its own transaction, and is
/// recorded in <c>schema_migrations</c>. Never edit a shipped script: append a new version.
/// </summary>
/// <remarks>
/// Conventions: times are INTEGER unix milliseconds (UTC), booleans INTEGER 0/1, labels and tags
/// JSON text, scopes the integer flags value. Expressions over a TTL multiply it by 1000.
/// </remarks>
internal static class Migrations
{
    /// <summary>One schema step.</summary>
    internal sealed record Migration(int Version, string Name, string Sql);

    /// <summary>Every migration, in version order.</summary>
    public static IReadOnlyList<Migration> All { get; } =
    [
        new(1, "initial", V1Initial),
        new(2, "commands", V2Commands),
        new(3, "key lifetime limit", V3KeyLimit),
        new(4, "retention by age and size", V4Retention),
        new(5, "session exit code", V5ExitCode),
        new(6, "progress, stalls and budgets", V6Progress),
        new(7, "session-bound locks", V7Locks),
        new(8, "webhooks", V8Webhooks),
        new(9, "A2A agent cards", V9AgentCards),
        new(10, "budget charges in the store", V10Charged),
        new(11, "no expiry index", V11NoExpiryIndex),
        new(12, "agents point at their latest session", V12LatestSession),
    ];

    /// <summary>Created outside the versioned list, since it records the list.</summary>
    public const string CreateHistoryTable = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version    INTEGER PRIMARY KEY,
            name       TEXT NOT NULL,
            applied_at INTEGER NOT NULL
        );
        """;

    private const string V1Initial = """
        CREATE TABLE agents (
            cluster    TEXT NOT NULL,
            agent_id   TEXT NOT NULL,
            parent_id  TEXT,
            labels     TEXT NOT NULL DEFAULT '{}',
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (cluster, agent_id)
        ) WITHOUT ROWID;
        -- Children of an agent (topology, cascade kill, spawn limits, orphan detection).
        CREATE INDEX ix_agents_parent ON agents (cluster, parent_id, agent_id) WHERE parent_id IS NOT NULL;

        CREATE TABLE sessions (
            session_id     TEXT PRIMARY KEY NOT NULL,
            cluster        TEXT NOT NULL,
            agent_id       TEXT NOT NULL,
            ttl            INTEGER NOT NULL,
            started_at     INTEGER NOT NULL,
            last_seen      INTEGER NOT NULL,
            expires_at     INTEGER NOT NULL,
            load           REAL,
            idle           INTEGER NOT NULL DEFAULT 0,
            max_runtime    INTEGER,
            end_status     TEXT CHECK (end_status IS NULL OR end_status IN ('expired', 'left', 'killed', 'superseded')),
            ended_at       INTEGER,
            end_reason     TEXT,
            stale_notified INTEGER NOT NULL DEFAULT 0
        );
        -- The open session of an agent; unique, so a second open lease of one agent cannot exist.
        CREATE UNIQUE INDEX ux_sessions_open_agent ON sessions (cluster, agent_id) WHERE end_status IS NULL;
        -- Sessions of a cluster in keyset order.
        CREATE INDEX ix_sessions_cluster ON sessions (cluster, session_id);
        -- Latest session of an agent.
        CREATE INDEX ix_sessions_agent ON sessions (cluster, agent_id, started_at);
        -- The expiry sweep.
        CREATE INDEX ix_sessions_open_expires ON sessions (expires_at) WHERE end_status IS NULL;

        CREATE TABLE specializations (
            cluster       TEXT NOT NULL,
            agent_id      TEXT NOT NULL,
            name          TEXT NOT NULL,
            description   TEXT,
            tags          TEXT NOT NULL DEFAULT '[]',
            version       TEXT,
            registered_at INTEGER NOT NULL,
            PRIMARY KEY (cluster, agent_id, name)
        ) WITHOUT ROWID;
        -- Registry look-ups by specialization name.
        CREATE INDEX ix_specializations_name ON specializations (cluster, name, agent_id);

        CREATE TABLE api_keys (
            key_id       TEXT PRIMARY KEY NOT NULL,
            secret_hash  BLOB NOT NULL,
            cluster      TEXT NOT NULL,
            scopes       INTEGER NOT NULL,
            agent_id     TEXT,
            name         TEXT,
            created_at   INTEGER NOT NULL,
            expires_at   INTEGER,
            revoked_at   INTEGER,
            created_by   TEXT,
            rotated_from TEXT
        );
        CREATE INDEX ix_api_keys_cluster ON api_keys (cluster, key_id);

        -- AUTOINCREMENT: a revision is never reused, even after old events are deleted.
        CREATE TABLE events (
            revision   INTEGER PRIMARY KEY AUTOINCREMENT,
            cluster    TEXT NOT NULL,
            type       TEXT NOT NULL,
            at         INTEGER NOT NULL,
            agent_id   TEXT,
            session_id TEXT,
            data       TEXT
        );
        CREATE INDEX ix_events_cluster ON events (cluster, revision);

        CREATE TABLE audit_log (
            id       INTEGER PRIMARY KEY AUTOINCREMENT,
            at       INTEGER NOT NULL,
            key_id   TEXT NOT NULL,
            cluster  TEXT NOT NULL,
            method   TEXT NOT NULL,
            path     TEXT NOT NULL,
            status   INTEGER NOT NULL,
            code     TEXT
        );
        CREATE INDEX ix_audit_log_cluster ON audit_log (cluster, id);
        """;

    private const string V2Commands = """
        CREATE TABLE commands (
            command_id      TEXT PRIMARY KEY NOT NULL,
            cluster         TEXT NOT NULL,
            agent_id        TEXT NOT NULL,
            kind            TEXT NOT NULL CHECK (kind IN ('steer', 'message', 'kill')),
            status          TEXT NOT NULL CHECK (status IN ('queued', 'delivered', 'acked', 'rejected', 'failed', 'expired')),
            sequence        INTEGER NOT NULL,
            direction       TEXT,
            mode            TEXT,
            text            TEXT,
            from_agent      TEXT,
            reason          TEXT,
            grace_period    INTEGER,
            payload         TEXT,
            result          TEXT,
            created_at      INTEGER NOT NULL,
            delivered_at    INTEGER,
            completed_at    INTEGER,
            deadline_at     INTEGER,
            created_by      TEXT NOT NULL,
            idempotency_key TEXT,
            delivery_count  INTEGER NOT NULL DEFAULT 0,
            UNIQUE (cluster, agent_id, sequence)
        );
        -- A retried create finds the command it made before.
        CREATE UNIQUE INDEX ux_commands_idempotency ON commands (created_by, idempotency_key) WHERE idempotency_key IS NOT NULL;
        -- The pending stream of an agent, in sequence order.
        CREATE INDEX ix_commands_pending ON commands (cluster, agent_id, sequence) WHERE status IN ('queued', 'delivered');
        -- The deadline sweep.
        CREATE INDEX ix_commands_due ON commands (deadline_at, command_id)
            WHERE status IN ('queued', 'delivered') AND deadline_at IS NOT NULL;
        -- Whether an agent is being killed.
        CREATE INDEX ix_commands_pending_kill ON commands (cluster, agent_id) WHERE kind = 'kill' AND status IN ('queued', 'delivered');

        -- The highest sequence ever given to an agent's command: kept apart from the commands, so a
        -- number is never reused even if commands are deleted.
        CREATE TABLE command_sequences (
            cluster       TEXT NOT NULL,
            agent_id      TEXT NOT NULL,
            last_sequence INTEGER NOT NULL,
            PRIMARY KEY (cluster, agent_id)
        ) WITHOUT ROWID;

        -- The max_runtime sweep, over the same expression as its query.
        CREATE INDEX ix_sessions_open_runtime ON sessions (started_at + max_runtime * 1000, session_id)
            WHERE end_status IS NULL AND max_runtime IS NOT NULL;
        """;

    /// <summary>
    /// The latest time any key of a rotation chain may live: a successor never outlives the key that minted the
    /// chain. Keys from before this version have none (they are bounded by their own expiry at each rotation).
    /// </summary>
    private const string V3KeyLimit = """
        ALTER TABLE api_keys ADD COLUMN limit_at INTEGER;
        """;

    /// <summary>
    /// Retention by age and size, with one copy of each command payload. Each event has its size (its data as
    /// appended, command payload included), and a command event keeps its command's payload, result, direction and text
    /// only in the command's row (<c>lifted</c> flags which, <see cref="CommandEventData"/>); events from before this
    /// version keep their full copies until retention drops them. A command's size is computed by SQLite from its
    /// columns (octet_length reads a value's size, not the value). <c>storage_probe</c> is what a store that ran out of
    /// space writes to learn whether it has room again.
    /// </summary>
    private const string V4Retention = """
        ALTER TABLE events ADD COLUMN size INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE events ADD COLUMN command_id TEXT;
        ALTER TABLE events ADD COLUMN lifted INTEGER NOT NULL DEFAULT 0;
        UPDATE events SET size = 100 + COALESCE(octet_length(data), 0);
        -- Retention by size sums sizes newest first, reading this index only.
        CREATE INDEX ix_events_size ON events (revision, size);
        -- Whether a completed command still has events that read their payload from it.
        CREATE INDEX ix_events_command ON events (command_id) WHERE command_id IS NOT NULL;

        ALTER TABLE commands ADD COLUMN size INTEGER GENERATED ALWAYS AS (
            200 + COALESCE(octet_length(payload), 0) + COALESCE(octet_length(result), 0)
                + COALESCE(octet_length(direction), 0) + COALESCE(octet_length(text), 0)) VIRTUAL;
        -- Completed commands, longest completed first, with their sizes: retention by age and by size.
        CREATE INDEX ix_commands_completed ON commands (completed_at, command_id, size)
            WHERE status IN ('acked', 'rejected', 'failed', 'expired');

        CREATE TABLE storage_probe (
            id     INTEGER PRIMARY KEY,
            filler BLOB
        );
        """;

    /// <summary>The exit code of the agent's process, recorded when the agent leaves (<c>session-mesh agent</c> does).</summary>
    private const string V5ExitCode = """
        ALTER TABLE sessions ADD COLUMN exit_code INTEGER;
        """;

    /// <summary>
    /// Progress on sessions: the last report (JSON of counters and activity), when a counter last grew, the stall limit
    /// and what to do at it, and whether the current stall was announced; budgets: the limits (JSON), the usage charged
    /// to them (JSON), the sessions whose budgets a session's reports count against (JSON array), and the alert raised.
    /// </summary>
    private const string V6Progress = """
        ALTER TABLE sessions ADD COLUMN progress TEXT;
        ALTER TABLE sessions ADD COLUMN progressed_at INTEGER;
        ALTER TABLE sessions ADD COLUMN stall_after INTEGER;
        ALTER TABLE sessions ADD COLUMN on_stall TEXT;
        ALTER TABLE sessions ADD COLUMN stall_notified INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE sessions ADD COLUMN budget TEXT;
        ALTER TABLE sessions ADD COLUMN budget_used TEXT;
        ALTER TABLE sessions ADD COLUMN charge_to TEXT;
        ALTER TABLE sessions ADD COLUMN budget_alert TEXT;
        """;

    /// <summary>
    /// With replicas, budgets are charged in the store: a session's counters as far as they are charged to its budgets
    /// (JSON), so a report through any replica charges only their growth since.
    /// </summary>
    private const string V10Charged = """
        ALTER TABLE sessions ADD COLUMN charged TEXT;
        """;

    /// <summary>
    /// Expiry reads the in-memory lease table, so no query scans open sessions by expiry any more; the index only cost
    /// writes: every join inserted into it, and every lease checkpoint moved the entries of the sessions it renewed.
    /// </summary>
    private const string V11NoExpiryIndex = """
        DROP INDEX IF EXISTS ix_sessions_open_expires;
        """;

    /// <summary>
    /// An agent's row names its latest session (the open one while there is one), and the two session indexes keyed by
    /// agent go: every join wrote a leaf of each at the agent's place, 40 % of a join's pages, while the agent's own row
    /// is written by the join anyway. The open session of an agent is its latest one when that is open; a join ends the
    /// open session before it starts the next, and the insert refuses an agent whose latest session is open, which is
    /// what the unique index enforced. An agent's ended sessions are found through an index that only ending writes.
    /// </summary>
    private const string V12LatestSession = """
        ALTER TABLE agents ADD COLUMN latest_session_id TEXT;
        UPDATE agents SET latest_session_id = (
            SELECT l.session_id FROM sessions l
            WHERE l.cluster = agents.cluster AND l.agent_id = agents.agent_id
            ORDER BY l.end_status IS NULL DESC, l.started_at DESC, l.session_id DESC
            LIMIT 1);
        -- An agent's ended sessions, for its history.
        CREATE INDEX ix_sessions_agent_ended ON sessions (cluster, agent_id, session_id) WHERE end_status IS NOT NULL;
        DROP INDEX ux_sessions_open_agent;
        DROP INDEX ix_sessions_agent;
        """;

    // The card is kept as the JSON text it was given (compact), unknown fields and all; up to 1 MiB, so not WITHOUT ROWID.
    private const string V9AgentCards = """
        CREATE TABLE agent_cards (
            cluster    TEXT NOT NULL,
            agent_id   TEXT NOT NULL,
            card       TEXT NOT NULL,
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (cluster, agent_id)
        );
        """;

    /// <summary>
    /// Session-bound locks: one row per (cluster, name), so two holders of one lock cannot both be written. A row whose
    /// holder's session ended stays, released, until its lock-delay ends.
    /// </summary>
    private const string V7Locks = """
        CREATE TABLE locks (
            cluster     TEXT NOT NULL,
            name        TEXT NOT NULL,
            session_id  TEXT NOT NULL,
            agent_id    TEXT NOT NULL,
            acquired_at INTEGER NOT NULL,
            expires_at  INTEGER,
            ttl         INTEGER,
            lock_delay  INTEGER NOT NULL DEFAULT 0,
            metadata    TEXT NOT NULL DEFAULT '{}',
            revision    INTEGER NOT NULL,
            released_at INTEGER,
            delay_until INTEGER,
            PRIMARY KEY (cluster, name)
        ) WITHOUT ROWID;
        -- The locks a session holds, released when it ends.
        CREATE INDEX ix_locks_session ON locks (session_id) WHERE released_at IS NULL;
        -- The lock TTL sweep.
        CREATE INDEX ix_locks_expires ON locks (expires_at) WHERE released_at IS NULL AND expires_at IS NOT NULL;
        -- Lock-delays that ended.
        CREATE INDEX ix_locks_delay ON locks (delay_until) WHERE released_at IS NOT NULL;
        """;

    /// <summary>
    /// Webhooks: their configuration (event patterns and labels as JSON text), the signing secret (kept to sign: HMAC
    /// needs it), the state, the cursor into the event log and the retry counters of the event at the cursor; and the
    /// recent delivery attempts of each.
    /// </summary>
    private const string V8Webhooks = """
        CREATE TABLE webhooks (
            webhook_id     TEXT PRIMARY KEY,
            cluster        TEXT NOT NULL,
            url            TEXT NOT NULL,
            events         TEXT NOT NULL,
            labels         TEXT NOT NULL,
            specialization TEXT,
            description    TEXT,
            secret         TEXT NOT NULL,
            created_at     INTEGER NOT NULL,
            created_by     TEXT,
            state          TEXT NOT NULL,
            cursor         INTEGER NOT NULL,
            attempts       INTEGER NOT NULL DEFAULT 0,
            retrying_since INTEGER,
            last_error     TEXT
        );
        CREATE INDEX ix_webhooks_cluster ON webhooks (cluster, webhook_id);

        CREATE TABLE webhook_deliveries (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            webhook_id  TEXT NOT NULL,
            revision    INTEGER NOT NULL,
            event_type  TEXT NOT NULL,
            delivery_id TEXT NOT NULL,
            attempt     INTEGER NOT NULL,
            status_code INTEGER,
            error       TEXT,
            latency_ms  INTEGER NOT NULL,
            at          INTEGER NOT NULL
        );
        CREATE INDEX ix_webhook_deliveries ON webhook_deliveries (webhook_id, id);
        """;
}
