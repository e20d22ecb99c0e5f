using SessionMesh.Model;

namespace SessionMesh.Store;

/// <summary>
/// The storage contract every backend implements (SQLite, PostgreSQL). Reads run anywhere;
/// every change goes through <see cref="BeginWriteAsync"/> so that a state change and its event
/// commit together. Nothing above this interface knows which database it runs on.
/// </summary>
public interface IMeshStore : IAsyncDisposable, ILockStore, IWebhookStore
{
    /// <summary>Creates or upgrades the schema. Safe to call on every start.</summary>
    Task MigrateAsync(CancellationToken cancellationToken);

    /// <summary>True when the store answers a trivial query.</summary>
    Task<bool> PingAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Whether writes succeed: false after a write failed because the store had no room left (a
    /// <see cref="Mesh.MeshErrorKind.StorageFull"/> error), until a probe write succeeds: while full, each call tries
    /// one of its own (a few pages), so the answer turns true as soon as space returns, even when nothing else writes.
    /// </summary>
    Task<bool> IsWritableAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Deletes the events and completed commands <paramref name="policy"/> no longer keeps, in small transactions of
    /// their own, then gives the freed space back to the file system. Never deletes a pending command.
    /// </summary>
    Task<RetentionResult> ApplyRetentionAsync(RetentionPolicy policy, CancellationToken cancellationToken);

    /// <summary>Starts a serialisable write; dispose without commit to roll back.</summary>
    Task<IMeshWriteTransaction> BeginWriteAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Starts a write nobody waits on, which rides in the next writer's batch (and shares its fsync) when one begins
    /// within <paramref name="patience"/>, and otherwise begins like <see cref="BeginWriteAsync"/>. Its commit is as
    /// durable as any other.
    /// </summary>
    Task<IMeshWriteTransaction> BeginRidingWriteAsync(TimeSpan patience, CancellationToken cancellationToken);

    /// <summary>A session by id, open or ended.</summary>
    Task<SessionRecord?> GetSessionAsync(string sessionId, CancellationToken cancellationToken);

    /// <summary>Sessions matching <paramref name="query"/>, ordered by session id.</summary>
    Task<IReadOnlyList<SessionRecord>> ListSessionsAsync(SessionQuery query, CancellationToken cancellationToken);

    /// <summary>An agent by id within a cluster.</summary>
    Task<AgentRecord?> GetAgentAsync(string cluster, string agentId, CancellationToken cancellationToken);

    /// <summary>Agents of a cluster ordered by id, after <paramref name="afterAgentId"/>, optionally only children of <paramref name="parentId"/>.</summary>
    Task<IReadOnlyList<AgentRecord>> ListAgentsAsync(string cluster, string? parentId, string? afterAgentId, int limit, CancellationToken cancellationToken);

    /// <summary>The agents with the given ids (missing ones left out).</summary>
    Task<IReadOnlyList<AgentRecord>> GetAgentsAsync(string cluster, IReadOnlyCollection<string> agentIds, CancellationToken cancellationToken);

    /// <summary>The direct children of the given parents.</summary>
    Task<IReadOnlyList<AgentRecord>> GetChildrenAsync(string cluster, IReadOnlyCollection<string> parentIds, CancellationToken cancellationToken);

    /// <summary>The open (not ended) session of each of the given agents that has one.</summary>
    Task<IReadOnlyList<SessionRecord>> GetOpenSessionsAsync(string cluster, IReadOnlyCollection<string> agentIds, CancellationToken cancellationToken);

    /// <summary>The latest session of each of the given agents that ever joined, open or ended.</summary>
    Task<IReadOnlyList<SessionRecord>> GetLatestSessionsAsync(string cluster, IReadOnlyCollection<string> agentIds, CancellationToken cancellationToken);

    /// <summary>Specializations registered by the given agents.</summary>
    Task<IReadOnlyList<SpecializationRecord>> GetSpecializationsAsync(string cluster, IReadOnlyCollection<string> agentIds, CancellationToken cancellationToken);

    /// <summary>
    /// Agents registered for a specialization with their open session, ordered alive first, then by
    /// reported load (unknown last), then by agent id; paged by offset.
    /// </summary>
    Task<IReadOnlyList<RegistryMatch>> FindBySpecializationAsync(RegistryQuery query, CancellationToken cancellationToken);

    /// <summary>Every specialization of a cluster with counts of agents and alive agents.</summary>
    Task<IReadOnlyList<SpecializationCount>> CountSpecializationsAsync(string cluster, DateTimeOffset now, CancellationToken cancellationToken);

    // ---- A2A agent cards ----

    /// <summary>An agent's A2A Agent Card, or null when it has none.</summary>
    Task<AgentCardRecord?> GetCardAsync(string cluster, string agentId, CancellationToken cancellationToken);

    /// <summary>The cards of the given agents that have one (the others left out).</summary>
    Task<IReadOnlyList<AgentCardRecord>> GetCardsAsync(string cluster, IReadOnlyCollection<string> agentIds, CancellationToken cancellationToken);

    /// <summary>A key by id.</summary>
    Task<ApiKeyRecord?> GetKeyAsync(string keyId, CancellationToken cancellationToken);

    /// <summary>Keys ordered by id, of one cluster or (null) all, after <paramref name="afterKeyId"/>.</summary>
    Task<IReadOnlyList<ApiKeyRecord>> ListKeysAsync(string? cluster, string? afterKeyId, int limit, CancellationToken cancellationToken);

    /// <summary>Audit entries newest first, of one cluster or (null) all, before <paramref name="beforeId"/>.</summary>
    Task<IReadOnlyList<AuditRecord>> ListAuditAsync(string? cluster, long? beforeId, int limit, CancellationToken cancellationToken);

    /// <summary>Events with a revision above <paramref name="afterRevision"/>, oldest first.</summary>
    Task<IReadOnlyList<MeshEventRecord>> ListEventsAsync(string? cluster, long afterRevision, int limit, CancellationToken cancellationToken);

    /// <summary>A command by id.</summary>
    Task<CommandRecord?> GetCommandAsync(string commandId, CancellationToken cancellationToken);

    /// <summary>
    /// The pending (queued or delivered) commands of an agent with a sequence above <paramref name="afterSequence"/>,
    /// in sequence order.
    /// </summary>
    Task<IReadOnlyList<CommandRecord>> ListPendingCommandsAsync(string cluster, string agentId, long afterSequence, int limit, CancellationToken cancellationToken);

    /// <summary>The pending (queued or delivered) kill commands of the given agents: the ones being killed gracefully.</summary>
    Task<IReadOnlyList<CommandRecord>> GetPendingKillsAsync(string cluster, IReadOnlyCollection<string> agentIds, CancellationToken cancellationToken);

    /// <summary>Counts of commands by status, all clusters, for metrics.</summary>
    Task<IReadOnlyDictionary<CommandStatus, long>> CountCommandsAsync(CancellationToken cancellationToken);

    /// <summary>The lowest revision still retained, or null when no event is stored.</summary>
    Task<long?> GetOldestRevisionAsync(CancellationToken cancellationToken);

    /// <summary>The highest revision ever assigned (0 when none), even if since compacted.</summary>
    Task<long> GetLatestRevisionAsync(CancellationToken cancellationToken);

    /// <summary>Counts of open sessions by status at <paramref name="now"/>, for metrics.</summary>
    Task<IReadOnlyDictionary<SessionStatus, long>> CountSessionsAsync(DateTimeOffset now, CancellationToken cancellationToken);
}
