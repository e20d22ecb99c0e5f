using Microsoft.Data.Sqlite;
using SessionMesh.Model;

namespace SessionMesh.Store.Sqlite;

/// <summary>
/// The one place that knows how a row maps to a record: each column list is paired with the reader
/// that consumes it by ordinal. Columns are qualified by table name (not an alias) so the same list
/// works in SELECT, in joins and in RETURNING.
/// </summary>
internal static class SqliteRows
{
    public const string SessionColumns =
        "sessions.session_id, sessions.cluster, sessions.agent_id, sessions.ttl, sessions.started_at, sessions.last_seen, " +
        "sessions.expires_at, sessions.load, sessions.idle, sessions.max_runtime, sessions.end_status, sessions.ended_at, " +
        "sessions.end_reason, sessions.stale_notified, sessions.progress, sessions.progressed_at, sessions.stall_after, " +
        "sessions.on_stall, sessions.stall_notified, sessions.budget, sessions.budget_used, sessions.charge_to, sessions.budget_alert, sessions.exit_code, sessions.charged";

    public const string AgentColumns =
        "agents.cluster, agents.agent_id, agents.parent_id, agents.labels, agents.created_at, agents.updated_at";

    public const string SpecializationColumns =
        "specializations.cluster, specializations.agent_id, specializations.name, specializations.description, " +
        "specializations.tags, specializations.version, specializations.registered_at";

    /// <summary>How many columns <see cref="SpecializationColumns"/> has, for reading a joined row.</summary>
    public const int SpecializationColumnCount = 7;

    public const string KeyColumns =
        "api_keys.key_id, api_keys.secret_hash, api_keys.cluster, api_keys.scopes, api_keys.agent_id, api_keys.name, " +
        "api_keys.created_at, api_keys.expires_at, api_keys.revoked_at, api_keys.created_by, api_keys.rotated_from, api_keys.limit_at";

    public const string EventColumns =
        "events.revision, events.cluster, events.type, events.at, events.agent_id, events.session_id, events.data";

    public const string AuditColumns =
        "audit_log.id, audit_log.at, audit_log.key_id, audit_log.cluster, audit_log.method, audit_log.path, " +
        "audit_log.status, audit_log.code";

    public const string CommandColumns =
        "commands.command_id, commands.cluster, commands.agent_id, commands.kind, commands.status, commands.sequence, " +
        "commands.direction, commands.mode, commands.text, commands.from_agent, commands.reason, commands.grace_period, " +
        "commands.payload, commands.result, commands.created_at, commands.delivered_at, commands.completed_at, " +
        "commands.deadline_at, commands.created_by, commands.idempotency_key, commands.delivery_count";

    public static long ToDb(DateTimeOffset value) => value.ToUnixTimeMilliseconds();

    public static string ToDb(SessionStatus status) => status.ToWire();

    public static string ToDb(CommandKind kind) => kind.ToWire();

    public static string ToDb(CommandStatus status) => status.ToWire();

    public static SessionRecord ReadSession(SqliteDataReader r) => ReadSession(r, 0);

    public static SessionRecord ReadSession(SqliteDataReader r, int o) => new(
        SessionId: r.GetString(o),
        Cluster: r.GetString(o + 1),
        AgentId: r.GetString(o + 2),
        Ttl: r.GetInt32(o + 3),
        StartedAt: Time(r, o + 4),
        LastSeen: Time(r, o + 5),
        ExpiresAt: Time(r, o + 6),
        Load: r.IsDBNull(o + 7) ? null : r.GetDouble(o + 7),
        Idle: r.GetInt64(o + 8) != 0,
        MaxRuntime: r.IsDBNull(o + 9) ? null : r.GetInt32(o + 9),
        EndStatus: r.IsDBNull(o + 10) ? null : Status(r.GetString(o + 10)),
        EndedAt: NullableTime(r, o + 11),
        EndReason: NullableString(r, o + 12),
        StaleNotified: r.GetInt64(o + 13) != 0,
        Progress: r.IsDBNull(o + 14) ? null : SqliteJson.ReadProgress(r.GetString(o + 14)),
        ProgressedAt: NullableTime(r, o + 15),
        StallAfter: r.IsDBNull(o + 16) ? null : r.GetInt32(o + 16),
        OnStall: NullableString(r, o + 17),
        StallNotified: r.GetInt64(o + 18) != 0,
        Budget: r.IsDBNull(o + 19) ? null : SqliteJson.ReadBudget(r.GetString(o + 19)),
        BudgetUsed: r.IsDBNull(o + 20) ? null : SqliteJson.ReadProgress(r.GetString(o + 20)),
        ChargeTo: r.IsDBNull(o + 21) ? null : SqliteJson.ReadStrings(r.GetString(o + 21)),
        BudgetAlert: NullableString(r, o + 22),
        ExitCode: r.IsDBNull(o + 23) ? null : r.GetInt32(o + 23),
        Charged: r.IsDBNull(o + 24) ? null : SqliteJson.ReadProgress(r.GetString(o + 24)));

    public static AgentRecord ReadAgent(SqliteDataReader r) => new(
        Cluster: r.GetString(0),
        AgentId: r.GetString(1),
        ParentId: NullableString(r, 2),
        Labels: SqliteJson.ReadLabels(r.GetString(3)),
        CreatedAt: Time(r, 4),
        UpdatedAt: Time(r, 5));

    public static SpecializationRecord ReadSpecialization(SqliteDataReader r) => new(
        Cluster: r.GetString(0),
        AgentId: r.GetString(1),
        Name: r.GetString(2),
        Description: NullableString(r, 3),
        Tags: SqliteJson.ReadStrings(r.GetString(4)),
        Version: NullableString(r, 5),
        RegisteredAt: Time(r, 6));

    /// <summary>A specialization joined with its agent's open session, null when the agent has none.</summary>
    public static RegistryMatch ReadRegistryMatch(SqliteDataReader r) => new(
        ReadSpecialization(r),
        r.IsDBNull(SpecializationColumnCount) ? null : ReadSession(r, SpecializationColumnCount));

    public static ApiKeyRecord ReadKey(SqliteDataReader r) => new(
        KeyId: r.GetString(0),
        SecretHash: r.GetFieldValue<byte[]>(1),
        Cluster: r.GetString(2),
        Scopes: (MeshScopes)r.GetInt32(3),
        AgentId: NullableString(r, 4),
        Name: NullableString(r, 5),
        CreatedAt: Time(r, 6),
        ExpiresAt: NullableTime(r, 7),
        RevokedAt: NullableTime(r, 8),
        CreatedBy: NullableString(r, 9),
        RotatedFrom: NullableString(r, 10),
        LimitAt: NullableTime(r, 11));

    /// <summary>
    /// An event row read with its command's lifted fields (<see cref="EventColumns"/> then <c>lifted</c>, the command's
    /// payload, result, direction and text): the data as it was appended (<see cref="CommandEventData"/>).
    /// </summary>
    public static MeshEventRecord ReadEvent(SqliteDataReader r)
    {
        var data = NullableString(r, 6);
        if (data is not null && r.GetInt32(7) is var lifted and not 0)
        {
            data = CommandEventData.Restore(data, lifted, NullableString(r, 8), NullableString(r, 9), NullableString(r, 10), NullableString(r, 11));
        }
        return new(
            Revision: r.GetInt64(0),
            Cluster: r.GetString(1),
            Type: r.GetString(2),
            At: Time(r, 3),
            AgentId: NullableString(r, 4),
            SessionId: NullableString(r, 5),
            Data: data is null ? null : SqliteJson.ReadElement(data));
    }

    public static AuditRecord ReadAudit(SqliteDataReader r) => new(
        Id: r.GetInt64(0),
        At: Time(r, 1),
        KeyId: r.GetString(2),
        Cluster: r.GetString(3),
        Method: r.GetString(4),
        Path: r.GetString(5),
        Status: r.GetInt32(6),
        Code: NullableString(r, 7));

    public static CommandRecord ReadCommand(SqliteDataReader r) => new(
        CommandId: r.GetString(0),
        Cluster: r.GetString(1),
        AgentId: r.GetString(2),
        Kind: CommandNames.ParseKind(r.GetString(3)) ?? throw new InvalidDataException($"Unknown command kind '{r.GetString(3)}' in the store."),
        Status: CommandStatusOf(r.GetString(4)),
        Sequence: r.GetInt64(5),
        Direction: NullableString(r, 6),
        Mode: NullableString(r, 7),
        Text: NullableString(r, 8),
        From: NullableString(r, 9),
        Reason: NullableString(r, 10),
        GracePeriod: r.IsDBNull(11) ? null : r.GetInt32(11),
        Payload: r.IsDBNull(12) ? null : SqliteJson.ReadElement(r.GetString(12)),
        Result: r.IsDBNull(13) ? null : SqliteJson.ReadElement(r.GetString(13)),
        CreatedAt: Time(r, 14),
        DeliveredAt: NullableTime(r, 15),
        CompletedAt: NullableTime(r, 16),
        DeadlineAt: NullableTime(r, 17),
        CreatedBy: r.GetString(18),
        IdempotencyKey: NullableString(r, 19),
        DeliveryCount: r.GetInt32(20));

    /// <summary>A command status as stored, e.g. a <c>GROUP BY status</c> key.</summary>
    public static CommandStatus CommandStatusOf(string value) =>
        CommandNames.ParseStatus(value) ?? throw new InvalidDataException($"Unknown command status '{value}' in the store.");

    private static DateTimeOffset Time(SqliteDataReader r, int ordinal) => DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(ordinal));

    private static DateTimeOffset? NullableTime(SqliteDataReader r, int ordinal) => r.IsDBNull(ordinal) ? null : Time(r, ordinal);

    private static string? NullableString(SqliteDataReader r, int ordinal) => r.IsDBNull(ordinal) ? null : r.GetString(ordinal);

    private static SessionStatus Status(string value) =>
        SessionStatusExtensions.FromWire(value) ?? throw new InvalidDataException($"Unknown session end status '{value}' in the store.");
}
