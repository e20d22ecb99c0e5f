using System.Globalization;
using System.Text;
using Npgsql;
using NpgsqlTypes;
using SessionMesh.Model;
using static SessionMesh.Store.Postgres.PostgresRows;

namespace SessionMesh.Store.Postgres;

public sealed partial class PostgresMeshStore
{
    private const string SelectSessionById = $"SELECT {SessionColumns} FROM sessions WHERE sessions.session_id = @session_id";

    private const string SelectOpenSessionsOfAgents = $"""
        SELECT {SessionColumns} FROM sessions
        WHERE sessions.cluster = @cluster AND sessions.end_status IS NULL AND sessions.agent_id = ANY(@agent_ids)
        ORDER BY sessions.agent_id
        """;

    // An open session is the latest even if an ended one somehow started later.
    private const string SelectLatestSessionsOfAgents = $"""
        SELECT DISTINCT ON (sessions.agent_id) {SessionColumns} FROM sessions
        WHERE sessions.cluster = @cluster AND sessions.agent_id = ANY(@agent_ids)
        ORDER BY sessions.agent_id, sessions.end_status IS NULL DESC, sessions.started_at DESC, sessions.session_id DESC
        """;

    private const string CountOpenSessionsByStatus = $"""
        SELECT
            COUNT(*) FILTER (WHERE {SessionStatusSql.Active}),
            COUNT(*) FILTER (WHERE {SessionStatusSql.Idle}),
            COUNT(*) FILTER (WHERE {SessionStatusSql.Stale}),
            COUNT(*) FILTER (WHERE @now > sessions.expires_at + sessions.ttl * 1000::BIGINT),
            COUNT(*) FILTER (WHERE {SessionStatusSql.Stalled})
        FROM sessions
        WHERE sessions.end_status IS NULL
        """;

    private const string SelectOpenSessionOfAgent = $"""
        SELECT {SessionColumns} FROM sessions
        WHERE sessions.cluster = @cluster AND sessions.agent_id = @agent_id AND sessions.end_status IS NULL
        """;

    private const string InsertSessionSql = """
        INSERT INTO sessions (session_id, cluster, agent_id, ttl, started_at, last_seen, expires_at, load, idle,
                              max_runtime, end_status, ended_at, end_reason, stale_notified, progress, progressed_at,
                              stall_after, on_stall, stall_notified, budget, budget_used, charge_to, budget_alert, exit_code)
        VALUES (@session_id, @cluster, @agent_id, @ttl, @started_at, @last_seen, @expires_at, @load, @idle,
                @max_runtime, @end_status, @ended_at, @end_reason, @stale_notified, @progress, @progressed_at,
                @stall_after, @on_stall, @stall_notified, @budget, @budget_used, @charge_to, @budget_alert, @exit_code)
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

    private const string CountLiveChildrenSql = $"""
        SELECT COUNT(DISTINCT a.agent_id)
        FROM agents a JOIN sessions ON sessions.cluster = a.cluster AND sessions.agent_id = a.agent_id
        WHERE a.cluster = @cluster AND a.parent_id = @parent_id AND {SessionStatusSql.Live}
        """;

    private const string SelectOpenSessions = $"""
        SELECT {SessionColumns} FROM sessions
        WHERE sessions.end_status IS NULL AND sessions.session_id > @after
        ORDER BY sessions.session_id
        LIMIT @limit
        """;

    // One statement for the whole checkpoint chunk: the leases go in as parallel arrays. Replicas checkpoint the
    // renewals each of them took, in any order: a lease older than the stored one (an earlier heartbeat, written after
    // a later one another replica took) is not written, so a checkpoint never moves a lease back. The progress and
    // budget usage a heartbeat reported travel with its lease: written with it, or not at all.
    private const string UpdateLeasesSql = """
        UPDATE sessions
        SET last_seen = u.last_seen, expires_at = u.expires_at, load = u.load, idle = u.idle, stale_notified = u.stale_notified,
            progress = u.progress, progressed_at = u.progressed_at, stall_notified = u.stall_notified,
            budget_used = u.budget_used, budget_alert = u.budget_alert
        FROM unnest(@session_ids, @last_seen, @expires_at, @load, @idle, @stale_notified,
                    @progress, @progressed_at, @stall_notified, @budget_used, @budget_alert)
            AS u(session_id, last_seen, expires_at, load, idle, stale_notified,
                 progress, progressed_at, stall_notified, budget_used, budget_alert)
        WHERE sessions.session_id = u.session_id AND sessions.end_status IS NULL
          AND u.last_seen >= sessions.last_seen AND u.expires_at >= sessions.expires_at
        """;

    // A replica's checkpoint: the same, but the budget usage stays as stored, where charges add up (Budgets partial).
    private const string UpdateLeasesExceptBudgetsSql = """
        UPDATE sessions
        SET last_seen = u.last_seen, expires_at = u.expires_at, load = u.load, idle = u.idle, stale_notified = u.stale_notified,
            progress = u.progress, progressed_at = u.progressed_at, stall_notified = u.stall_notified
        FROM unnest(@session_ids, @last_seen, @expires_at, @load, @idle, @stale_notified,
                    @progress, @progressed_at, @stall_notified)
            AS u(session_id, last_seen, expires_at, load, idle, stale_notified,
                 progress, progressed_at, stall_notified)
        WHERE sessions.session_id = u.session_id AND sessions.end_status IS NULL
          AND u.last_seen >= sessions.last_seen AND u.expires_at >= sessions.expires_at
        """;

    private const string SelectRuntimeExceededSessions = $"""
        SELECT {SessionColumns} FROM sessions
        WHERE sessions.end_status IS NULL AND sessions.max_runtime IS NOT NULL
          AND sessions.started_at + sessions.max_runtime * 1000::BIGINT <= @now
        ORDER BY sessions.started_at + sessions.max_runtime * 1000::BIGINT, sessions.session_id
        LIMIT @limit
        """;

    // A lease that is extended starts a new lapse, so its stale event may be sent again.
    private const string ExtendOpenLeasesSql = """
        UPDATE sessions
        SET expires_at = @now + ttl * 1000::BIGINT, stale_notified = FALSE
        WHERE end_status IS NULL AND expires_at < @now + ttl * 1000::BIGINT
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
            await using var command = new NpgsqlCommand(BuildSessionQuery(query), db);
            command.Bind("@cluster", query.Cluster).Bind("@now", query.Now).Bind("@limit", Math.Max(0, query.Limit));
            if (query.AfterSessionId is not null)
            {
                command.Bind("@after", query.AfterSessionId);
            }
            if (query.AgentId is not null)
            {
                command.Bind("@agent_id", query.AgentId);
            }
            if (query.Specialization is not null)
            {
                command.Bind("@specialization", query.Specialization);
            }
            if (query.ParentId is not null)
            {
                command.Bind("@parent_id", query.ParentId);
            }
            for (var i = 0; i < (query.Labels?.Count ?? 0); i++)
            {
                var (key, value) = query.Labels![i];
                var suffix = i.ToString(CultureInfo.InvariantCulture);
                command.Bind("@label_key" + suffix, key).Bind("@label_value" + suffix, value);
            }
            return await command.ListAsync(ReadSession, cancellationToken);
        }, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<SessionRecord>> GetOpenSessionsAsync(string cluster, IReadOnlyCollection<string> agentIds, CancellationToken cancellationToken) =>
        agentIds.Count == 0 ? [] : await ReadAsync(async db =>
        {
            await using var command = new NpgsqlCommand(SelectOpenSessionsOfAgents, db)
                .Bind("@cluster", cluster).BindArray("@agent_ids", NpgsqlDbType.Text, agentIds);
            return await command.ListAsync(ReadSession, cancellationToken);
        }, cancellationToken);

    /// <inheritdoc />
    public async Task<IReadOnlyList<SessionRecord>> GetLatestSessionsAsync(string cluster, IReadOnlyCollection<string> agentIds, CancellationToken cancellationToken) =>
        agentIds.Count == 0 ? [] : await ReadAsync(db => SelectLatestSessionsAsync(db, cluster, agentIds, cancellationToken), cancellationToken);

    internal static async Task<IReadOnlyList<SessionRecord>> SelectLatestSessionsAsync(NpgsqlConnection db, string cluster, IReadOnlyCollection<string> agentIds, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(SelectLatestSessionsOfAgents, db)
            .Bind("@cluster", cluster).BindArray("@agent_ids", NpgsqlDbType.Text, agentIds);
        return await command.ListAsync(ReadSession, cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyDictionary<SessionStatus, long>> CountSessionsAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyDictionary<SessionStatus, long>>(async db =>
        {
            await using var command = new NpgsqlCommand(CountOpenSessionsByStatus, db).Bind("@now", now);
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

    internal static async Task<SessionRecord?> SelectSessionAsync(NpgsqlConnection db, string sessionId, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(SelectSessionById, db).Bind("@session_id", sessionId);
        return await command.FirstOrDefaultAsync(ReadSession, cancellationToken);
    }

    internal static async Task<SessionRecord?> SelectOpenSessionAsync(NpgsqlConnection db, string cluster, string agentId, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(SelectOpenSessionOfAgent, db).Bind("@cluster", cluster).Bind("@agent_id", agentId);
        return await command.FirstOrDefaultAsync(ReadSession, cancellationToken);
    }

    internal static async Task InsertSessionAsync(NpgsqlConnection db, SessionRecord session, CancellationToken cancellationToken)
    {
        await using var command = BindSession(new NpgsqlCommand(InsertSessionSql, db), session)
            .Bind("@cluster", session.Cluster).Bind("@agent_id", session.AgentId).Bind("@started_at", session.StartedAt);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    internal static async Task UpdateSessionAsync(NpgsqlConnection db, SessionRecord session, CancellationToken cancellationToken)
    {
        await using var command = BindSession(new NpgsqlCommand(UpdateSessionSql, db), session);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    internal static async Task<int> CountLiveChildrenAsync(NpgsqlConnection db, string cluster, string parentId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(CountLiveChildrenSql, db).Bind("@cluster", cluster).Bind("@parent_id", parentId).Bind("@now", now);
        return (int)await command.ScalarInt64Async(cancellationToken);
    }

    internal static async Task<IReadOnlyList<SessionRecord>> ListOpenSessionsAsync(NpgsqlConnection db, string? afterSessionId, int limit, CancellationToken cancellationToken)
    {
        // With no cursor, start before every id: the empty string sorts first.
        await using var command = new NpgsqlCommand(SelectOpenSessions, db).Bind("@after", afterSessionId ?? "").Bind("@limit", Math.Max(0, limit));
        return await command.ListAsync(ReadSession, cancellationToken);
    }

    internal static async Task<int> UpdateLeasesAsync(NpgsqlConnection db, IReadOnlyCollection<SessionRecord> leases, bool withBudgets, CancellationToken cancellationToken)
    {
        if (leases.Count == 0)
        {
            return 0;
        }
        await using var command = new NpgsqlCommand(withBudgets ? UpdateLeasesSql : UpdateLeasesExceptBudgetsSql, db)
            .BindArray("@session_ids", NpgsqlDbType.Text, leases.Select(l => l.SessionId).ToArray())
            .BindArray("@last_seen", NpgsqlDbType.Bigint, leases.Select(l => ToDb(l.LastSeen)).ToArray())
            .BindArray("@expires_at", NpgsqlDbType.Bigint, leases.Select(l => ToDb(l.ExpiresAt)).ToArray())
            .BindArray("@load", NpgsqlDbType.Double, leases.Select(l => l.Load).ToArray())
            .BindArray("@idle", NpgsqlDbType.Boolean, leases.Select(l => l.Idle).ToArray())
            .BindArray("@stale_notified", NpgsqlDbType.Boolean, leases.Select(l => l.StaleNotified).ToArray())
            .BindArray("@progress", NpgsqlDbType.Text, leases.Select(l => PostgresJson.WriteProgress(l.Progress)).ToArray())
            .BindArray("@progressed_at", NpgsqlDbType.Bigint, leases.Select(l => l.ProgressedAt is { } at ? ToDb(at) : (long?)null).ToArray())
            .BindArray("@stall_notified", NpgsqlDbType.Boolean, leases.Select(l => l.StallNotified).ToArray());
        if (withBudgets)
        {
            command.BindArray("@budget_used", NpgsqlDbType.Text, leases.Select(l => PostgresJson.WriteProgress(l.BudgetUsed)).ToArray())
                .BindArray("@budget_alert", NpgsqlDbType.Text, leases.Select(l => l.BudgetAlert).ToArray());
        }
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    internal static async Task<IReadOnlyList<SessionRecord>> ListRuntimeExceededSessionsAsync(NpgsqlConnection db, DateTimeOffset now, int limit, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(SelectRuntimeExceededSessions, db).Bind("@now", now).Bind("@limit", Math.Max(0, limit));
        return await command.ListAsync(ReadSession, cancellationToken);
    }

    internal static async Task<int> ExtendOpenLeasesAsync(NpgsqlConnection db, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(ExtendOpenLeasesSql, db).Bind("@now", now);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Binds the mutable fields, shared by insert and update.</summary>
    private static NpgsqlCommand BindSession(NpgsqlCommand command, SessionRecord session) =>
        command.Bind("@session_id", session.SessionId).Bind("@ttl", session.Ttl).Bind("@last_seen", session.LastSeen)
            .Bind("@expires_at", session.ExpiresAt).Bind("@load", session.Load).Bind("@idle", session.Idle)
            .Bind("@max_runtime", session.MaxRuntime).Bind("@end_status", session.EndStatus is { } s ? ToDb(s) : null)
            .Bind("@ended_at", session.EndedAt).Bind("@end_reason", session.EndReason).Bind("@stale_notified", session.StaleNotified)
            .Bind("@progress", PostgresJson.WriteProgress(session.Progress)).Bind("@progressed_at", session.ProgressedAt)
            .Bind("@stall_after", session.StallAfter).Bind("@on_stall", session.OnStall).Bind("@stall_notified", session.StallNotified)
            .Bind("@budget", PostgresJson.WriteBudget(session.Budget)).Bind("@budget_used", PostgresJson.WriteProgress(session.BudgetUsed))
            .BindNullableArray("@charge_to", NpgsqlDbType.Text, session.ChargeTo).Bind("@budget_alert", session.BudgetAlert)
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
            sql.Append(" AND sessions.agent_id = @agent_id");
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
            // The key is a parameter, so no label key ever becomes SQL text.
            for (var i = 0; i < (query.Labels?.Count ?? 0); i++)
            {
                sql.Append(CultureInfo.InvariantCulture, $" AND a.labels ->> @label_key{i} = @label_value{i}");
            }
            sql.Append(')');
        }
        return sql.Append(" ORDER BY sessions.session_id LIMIT @limit").ToString();
    }
}
