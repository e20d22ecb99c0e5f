using System.Text;
using Microsoft.Data.Sqlite;
using SessionMesh.Model;
using static SessionMesh.Store.Sqlite.SqliteRows;

namespace SessionMesh.Store.Sqlite;

public sealed partial class SqliteMeshStore
{
    private const string SelectSessionById = $"SELECT {SessionColumns} FROM sessions WHERE sessions.session_id = @session_id";

    // An agent's row names its latest session, which is its open one while it is open (V12): no index keyed by agent.
    private const string LatestSessionOfAgent = "agents a JOIN sessions ON sessions.session_id = a.latest_session_id";

    private const string SelectOpenSessionsOfAgents = $"""
        SELECT {SessionColumns} FROM {LatestSessionOfAgent}
        WHERE a.cluster = @cluster AND a.agent_id IN (SELECT value FROM json_each(@agent_ids))
          AND sessions.end_status IS NULL
        ORDER BY a.agent_id
        """;

    private const string SelectLatestSessionsOfAgents = $"""
        SELECT {SessionColumns} FROM {LatestSessionOfAgent}
        WHERE a.cluster = @cluster AND a.agent_id IN (SELECT value FROM json_each(@agent_ids))
        ORDER BY a.agent_id
        """;

    private const string CountOpenSessionsByStatus = $"""
        SELECT
            COUNT(CASE WHEN {SessionStatusSql.Active} THEN 1 END),
            COUNT(CASE WHEN {SessionStatusSql.Idle} THEN 1 END),
            COUNT(CASE WHEN {SessionStatusSql.Stale} THEN 1 END),
            COUNT(CASE WHEN @now > sessions.expires_at + sessions.ttl * 1000 THEN 1 END),
            COUNT(CASE WHEN {SessionStatusSql.Stalled} THEN 1 END)
        FROM sessions
        WHERE sessions.end_status IS NULL
        """;

    private const string SelectOpenSessionOfAgent = $"""
        SELECT {SessionColumns} FROM {LatestSessionOfAgent}
        WHERE a.cluster = @cluster AND a.agent_id = @agent_id AND sessions.end_status IS NULL
        """;

    private const string InsertSessionSql = """
        INSERT INTO sessions (session_id, cluster, agent_id, ttl, started_at, last_seen, expires_at, load, idle,
                              max_runtime, end_status, ended_at, end_reason, stale_notified, progress, progressed_at,
                              stall_after, on_stall, stall_notified, budget, budget_used, charge_to, budget_alert, exit_code)
        VALUES (@session_id, @cluster, @agent_id, @ttl, @started_at, @last_seen, @expires_at, @load, @idle,
                @max_runtime, @end_status, @ended_at, @end_reason, @stale_notified, @progress, @progressed_at,
                @stall_after, @on_stall, @stall_notified, @budget, @budget_used, @charge_to, @budget_alert, @exit_code);
        UPDATE agents SET latest_session_id = @session_id
        WHERE cluster = @cluster AND agent_id = @agent_id
          AND NOT EXISTS (
            SELECT 1 FROM sessions cur
            WHERE cur.session_id = agents.latest_session_id
              AND (cur.end_status IS NULL
                   OR (@end_status IS NOT NULL
                       AND (cur.started_at > @started_at OR (cur.started_at = @started_at AND cur.session_id > @session_id)))));
        """;

    private const string UpdateSessionSql = """
        UPDATE sessions
        SET ttl = @ttl, last_seen = @last_seen, expires_at = @expires_at, load = @load, idle = @idle,
            max_runtime = @max_runtime, end_status = @end_status, ended_at = @ended_at, end_reason = @end_reason,
            stale_notified = @stale_notified, progress = @progress, progressed_at = @progressed_at,
            stall_after = @stall_after, on_stall = @on_stall, stall_notified = @stall_notified, budget = @budget,
            budget_used = @budget_used, charge_to = @charge_to, budget_alert = @budget_alert, exit_code = @exit_code
        WHERE session_id = @session_id
        """;

    // Only an agent's latest session can be open, so one row per child at most.
    private const string CountLiveChildrenSql = $"""
        SELECT COUNT(*)
        FROM {LatestSessionOfAgent}
        WHERE a.cluster = @cluster AND a.parent_id = @parent_id AND {SessionStatusSql.Live}
        """;

    private const string SelectOpenSessions = $"""
        SELECT {SessionColumns} FROM sessions
        WHERE sessions.end_status IS NULL AND sessions.session_id > @after
        ORDER BY sessions.session_id
        LIMIT @limit
        """;

    private const string UpdateLeaseSql = """
        UPDATE sessions
        SET last_seen = @last_seen, expires_at = @expires_at, load = @load, idle = @idle, stale_notified = @stale_notified,
            progress = @progress, progressed_at = @progressed_at, stall_notified = @stall_notified,
            budget_used = @budget_used, budget_alert = @budget_alert
        WHERE session_id = @session_id AND end_status IS NULL
        """;

    // With replicas the store holds the budget usage (charged additively): a checkpoint leaves it as stored.
    private const string UpdateLeaseExceptBudgetsSql = """
        UPDATE sessions
        SET last_seen = @last_seen, expires_at = @expires_at, load = @load, idle = @idle, stale_notified = @stale_notified,
            progress = @progress, progressed_at = @progressed_at, stall_notified = @stall_notified
        WHERE session_id = @session_id AND end_status IS NULL
        """;

    // The expression is the one ix_sessions_open_runtime indexes; max_runtime is in seconds.
    private const string SelectRuntimeExceededSessions = $"""
        SELECT {SessionColumns} FROM sessions
        WHERE sessions.end_status IS NULL AND sessions.max_runtime IS NOT NULL
          AND started_at + max_runtime * 1000 <= @now
        ORDER BY started_at + max_runtime * 1000, sessions.session_id
        LIMIT @limit
        """;

    // A lease that is extended starts a new lapse, so its stale event may be sent again.
    private const string ExtendOpenLeasesSql = """
        UPDATE sessions
        SET expires_at = @now + ttl * 1000, stale_notified = 0
        WHERE end_status IS NULL AND expires_at < @now + ttl * 1000
        """;

    /// <inheritdoc />
    public Task<SessionRecord?> GetSessionAsync(string sessionId, CancellationToken cancellationToken) =>
        ReadAsync(db => SelectSessionAsync(db, sessionId, cancellationToken), cancellationToken);

    /// <inheritdoc />
    public async Task<IReadOnlyList<SessionRecord>> ListSessionsAsync(SessionQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        return await ReadAsync(async db =>
        {
            await using var command = db.Command(BuildSessionQuery(query));
            command.Bind("@cluster", query.Cluster).Bind("@now", query.Now).Bind("@limit", Math.Max(0, query.Limit))
                .Bind("@after", query.AfterSessionId).Bind("@agent_id", query.AgentId)
                .Bind("@specialization", query.Specialization).Bind("@parent_id", query.ParentId);
            LabelSelectorSql.Bind(command, query.Labels);
            return await command.ListAsync(ReadSession, cancellationToken);
        }, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<SessionRecord>> GetOpenSessionsAsync(string cluster, IReadOnlyCollection<string> agentIds, CancellationToken cancellationToken) =>
        agentIds.Count == 0 ? [] : await ReadAsync(async db =>
        {
            await using var command = db.Command(SelectOpenSessionsOfAgents)
                .Bind("@cluster", cluster).Bind("@agent_ids", SqliteJson.WriteStrings(agentIds));
            return await command.ListAsync(ReadSession, cancellationToken);
        }, cancellationToken);

    /// <inheritdoc />
    public async Task<IReadOnlyList<SessionRecord>> GetLatestSessionsAsync(string cluster, IReadOnlyCollection<string> agentIds, CancellationToken cancellationToken) =>
        agentIds.Count == 0 ? [] : await ReadAsync(db => SelectLatestSessionsAsync(db, cluster, agentIds, cancellationToken), cancellationToken);

    internal static async Task<IReadOnlyList<SessionRecord>> SelectLatestSessionsAsync(SqliteDb db, string cluster, IReadOnlyCollection<string> agentIds, CancellationToken cancellationToken)
    {
        await using var command = db.Command(SelectLatestSessionsOfAgents)
            .Bind("@cluster", cluster).Bind("@agent_ids", SqliteJson.WriteStrings(agentIds));
        return await command.ListAsync(ReadSession, cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyDictionary<SessionStatus, long>> CountSessionsAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyDictionary<SessionStatus, long>>(async db =>
        {
            await using var command = db.Command(CountOpenSessionsByStatus).Bind("@now", now);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            return new Dictionary<SessionStatus, long>
            {
                [SessionStatus.Active] = reader.GetInt64(0),
                [SessionStatus.Idle] = reader.GetInt64(1),
                [SessionStatus.Stale] = reader.GetInt64(2),
                [SessionStatus.Expired] = reader.GetInt64(3),
                [SessionStatus.Stalled] = reader.GetInt64(4),
            };
        }, cancellationToken);

    internal static async Task<SessionRecord?> SelectSessionAsync(SqliteDb db, string sessionId, CancellationToken cancellationToken)
    {
        await using var command = db.Command(SelectSessionById).Bind("@session_id", sessionId);
        return await command.FirstOrDefaultAsync(ReadSession, cancellationToken);
    }

    internal static async Task<SessionRecord?> SelectOpenSessionAsync(SqliteDb db, string cluster, string agentId, CancellationToken cancellationToken)
    {
        await using var command = db.Command(SelectOpenSessionOfAgent).Bind("@cluster", cluster).Bind("@agent_id", agentId);
        return await command.FirstOrDefaultAsync(ReadSession, cancellationToken);
    }

    /// <summary>
    /// Inserts the session and points its agent's row at it when it is the agent's latest: an open session always is,
    /// and is refused (the write rolls back) when the agent has no row or its latest session is still open, so an agent
    /// never has two open sessions; an ended one (a test's, an import's) is the latest only after every other ended one,
    /// in the order of <c>started_at</c>, then id.
    /// </summary>
    internal static Task InsertSessionAsync(SqliteDb db, SessionRecord session, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var command = BindSession(db.Write(InsertSessionSql), session)
            .Bind("@cluster", session.Cluster).Bind("@agent_id", session.AgentId).Bind("@started_at", session.StartedAt);
        var changed = command.Execute();
        return changed == 2 || session.EndStatus is not null
            ? Task.CompletedTask
            : throw new InvalidOperationException(
                $"Session '{session.SessionId}' was not started: agent '{session.AgentId}' of cluster '{session.Cluster}' has no row, or its latest session is still open.");
    }

    internal static Task UpdateSessionAsync(SqliteDb db, SessionRecord session, CancellationToken cancellationToken) =>
        BindSession(db.Write(UpdateSessionSql), session).RunAsync(cancellationToken);

    internal static async Task<int> CountLiveChildrenAsync(SqliteDb db, string cluster, string parentId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = db.Command(CountLiveChildrenSql).Bind("@cluster", cluster).Bind("@parent_id", parentId).Bind("@now", now);
        return (int)await command.ScalarInt64Async(cancellationToken);
    }

    internal static async Task<IReadOnlyList<SessionRecord>> ListOpenSessionsAsync(SqliteDb db, string? afterSessionId, int limit, CancellationToken cancellationToken)
    {
        // With no cursor, start before every id: the empty string sorts first.
        await using var command = db.Command(SelectOpenSessions).Bind("@after", afterSessionId ?? "").Bind("@limit", Math.Max(0, limit));
        return await command.ListAsync(ReadSession, cancellationToken);
    }

    internal static Task<int> UpdateLeasesAsync(SqliteDb db, IReadOnlyCollection<SessionRecord> leases, bool withBudgets, CancellationToken cancellationToken)
    {
        // One prepared statement, rebound per lease: the whole batch is one transaction, hence one fsync.
        cancellationToken.ThrowIfCancellationRequested();
        using var command = db.Write(withBudgets ? UpdateLeaseSql : UpdateLeaseExceptBudgetsSql);
        var written = 0;
        foreach (var lease in leases)
        {
            command.Bind("@session_id", lease.SessionId).Bind("@last_seen", lease.LastSeen).Bind("@expires_at", lease.ExpiresAt)
                .Bind("@load", lease.Load).Bind("@idle", lease.Idle).Bind("@stale_notified", lease.StaleNotified)
                .Bind("@progress", SqliteJson.WriteProgress(lease.Progress)).Bind("@progressed_at", lease.ProgressedAt)
                .Bind("@stall_notified", lease.StallNotified);
            if (withBudgets)
            {
                command.Bind("@budget_used", SqliteJson.WriteProgress(lease.BudgetUsed)).Bind("@budget_alert", lease.BudgetAlert);
            }
            written += command.Execute();
        }
        return Task.FromResult(written);
    }

    internal static async Task<IReadOnlyList<SessionRecord>> ListRuntimeExceededSessionsAsync(SqliteDb db, DateTimeOffset now, int limit, CancellationToken cancellationToken)
    {
        await using var command = db.Command(SelectRuntimeExceededSessions).Bind("@now", now).Bind("@limit", Math.Max(0, limit));
        return await command.ListAsync(ReadSession, cancellationToken);
    }

    internal static async Task<int> ExtendOpenLeasesAsync(SqliteDb db, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = db.Command(ExtendOpenLeasesSql).Bind("@now", now);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Binds the mutable fields, shared by insert and update.</summary>
    private static PreparedWrite BindSession(PreparedWrite command, SessionRecord session) =>
        command.Bind("@session_id", session.SessionId).Bind("@ttl", session.Ttl).Bind("@last_seen", session.LastSeen)
            .Bind("@expires_at", session.ExpiresAt).Bind("@load", session.Load).Bind("@idle", session.Idle)
            .Bind("@max_runtime", session.MaxRuntime).Bind("@end_status", session.EndStatus is { } s ? ToDb(s) : null)
            .Bind("@ended_at", session.EndedAt).Bind("@end_reason", session.EndReason).Bind("@stale_notified", session.StaleNotified)
            .Bind("@progress", SqliteJson.WriteProgress(session.Progress)).Bind("@progressed_at", session.ProgressedAt)
            .Bind("@stall_after", (long?)session.StallAfter).Bind("@on_stall", session.OnStall).Bind("@stall_notified", session.StallNotified)
            .Bind("@budget", SqliteJson.WriteBudget(session.Budget)).Bind("@budget_used", SqliteJson.WriteProgress(session.BudgetUsed))
            .Bind("@charge_to", session.ChargeTo is null ? null : SqliteJson.WriteStrings(session.ChargeTo)).Bind("@budget_alert", session.BudgetAlert)
            .Bind("@exit_code", session.ExitCode);

    private static string BuildSessionQuery(SessionQuery query)
    {
        var sql = new StringBuilder($"SELECT {SessionColumns} FROM sessions WHERE sessions.cluster = @cluster AND ")
            .Append(SessionStatusSql.For(query.Filter));
        if (query.AfterSessionId is not null)
        {
            sql.Append(" AND sessions.session_id > @after");
        }
        if (query.AgentId is not null)
        {
            // The agent's sessions: its ended ones by their index, and its latest, which is the only one that can be open.
            sql.Append(" AND sessions.session_id IN (")
                .Append("SELECT e.session_id FROM sessions e WHERE e.cluster = @cluster AND e.agent_id = @agent_id AND e.end_status IS NOT NULL")
                .Append(" UNION ALL SELECT a.latest_session_id FROM agents a WHERE a.cluster = @cluster AND a.agent_id = @agent_id)");
        }
        if (query.Specialization is not null)
        {
            sql.Append(" AND EXISTS (SELECT 1 FROM specializations sp WHERE sp.cluster = sessions.cluster")
                .Append(" AND sp.agent_id = sessions.agent_id AND sp.name = @specialization)");
        }
        if (query.ParentId is not null || query.Labels is { Count: > 0 })
        {
            sql.Append(" AND EXISTS (SELECT 1 FROM agents a WHERE a.cluster = sessions.cluster AND a.agent_id = sessions.agent_id");
            if (query.ParentId is not null)
            {
                sql.Append(" AND a.parent_id = @parent_id");
            }
            LabelSelectorSql.Append(sql, "a.labels", query.Labels);
            sql.Append(')');
        }
        return sql.Append(" ORDER BY sessions.session_id LIMIT @limit").ToString();
    }
}
