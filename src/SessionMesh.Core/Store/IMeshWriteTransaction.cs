using System.Text.Json;
using SessionMesh.Model;

namespace SessionMesh.Store;

/// <summary>
/// One atomic change. Writers are serialised, so reads inside see the latest committed state and
/// nothing else changes it before <see cref="CommitAsync"/>. Disposing without committing rolls back.
/// A store may group the commits of several writers into one: a commit may then return
/// only once the writers queued behind it are done, so never hold a write transaction while waiting
/// for another write's commit to return.
/// </summary>
public interface IMeshWriteTransaction : IAsyncDisposable, ILockWriteTransaction, IWebhookWriteTransaction
{
    /// <summary>
    /// Makes every change of this transaction durable, returning only once it is; if it throws, none of
    /// them was kept.
    /// </summary>
    Task CommitAsync(CancellationToken cancellationToken);

    /// <summary>An agent by id within a cluster.</summary>
    Task<AgentRecord?> GetAgentAsync(string cluster, string agentId, CancellationToken cancellationToken);

    /// <summary>Inserts or replaces an agent.</summary>
    Task UpsertAgentAsync(AgentRecord agent, CancellationToken cancellationToken);

    /// <summary>The open session of an agent, if any.</summary>
    Task<SessionRecord?> GetOpenSessionAsync(string cluster, string agentId, CancellationToken cancellationToken);

    /// <summary>A session by id.</summary>
    Task<SessionRecord?> GetSessionAsync(string sessionId, CancellationToken cancellationToken);

    /// <summary>Inserts a new session.</summary>
    Task InsertSessionAsync(SessionRecord session, CancellationToken cancellationToken);

    /// <summary>Replaces a session's mutable fields.</summary>
    Task UpdateSessionAsync(SessionRecord session, CancellationToken cancellationToken);

    /// <summary>How many children of <paramref name="parentId"/> have an open session alive or stale at <paramref name="now"/>.</summary>
    Task<int> CountLiveChildrenAsync(string cluster, string parentId, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Open (not ended) sessions ordered by session id, after <paramref name="afterSessionId"/> when given.</summary>
    Task<IReadOnlyList<SessionRecord>> ListOpenSessionsAsync(string? afterSessionId, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// A lease checkpoint: writes the lease fields (<c>last_seen</c>, <c>expires_at</c>, <c>load</c>, <c>idle</c>,
    /// <c>stale_notified</c>) of each given session that is still open; ended sessions are left as they ended.
    /// Returns how many sessions were written.
    /// </summary>
    Task<int> UpdateLeasesAsync(IReadOnlyCollection<SessionRecord> leases, CancellationToken cancellationToken);

    /// <summary>
    /// The lease checkpoint of a replica: as <see cref="UpdateLeasesAsync"/>, but <c>budget_used</c> and
    /// <c>budget_alert</c> stay as stored, since with replicas the store holds them (<see cref="UpdateBudgetChargesAsync"/>)
    /// and a replica's copy may be behind another replica's charge.
    /// </summary>
    Task<int> UpdateLeasesExceptBudgetsAsync(IReadOnlyCollection<SessionRecord> leases, CancellationToken cancellationToken);

    /// <summary>
    /// Sessions by id (open or ended; unknown ids are left out), in session id order, each held against every other
    /// writer — other replicas' too — until this transaction ends: a write computed from their stored fields (an additive
    /// budget charge) can neither be lost nor applied twice.
    /// </summary>
    Task<IReadOnlyList<SessionRecord>> GetSessionsForUpdateAsync(IReadOnlyCollection<string> sessionIds, CancellationToken cancellationToken);

    /// <summary>
    /// A budget charge with replicas: writes <c>budget_used</c>, <c>budget_alert</c> and <c>charged</c> of each given
    /// session that is still open (read with <see cref="GetSessionsForUpdateAsync"/> in this transaction); ended sessions
    /// are left as they ended. Returns how many sessions were written.
    /// </summary>
    Task<int> UpdateBudgetChargesAsync(IReadOnlyCollection<SessionRecord> sessions, CancellationToken cancellationToken);

    /// <summary>The latest session of an agent, open or ended; null when it never joined.</summary>
    Task<SessionRecord?> GetLatestSessionAsync(string cluster, string agentId, CancellationToken cancellationToken);

    /// <summary>The direct children of the given parents.</summary>
    Task<IReadOnlyList<AgentRecord>> GetChildrenAsync(string cluster, IReadOnlyCollection<string> parentIds, CancellationToken cancellationToken);

    /// <summary>Extends every open lease to at least <paramref name="now"/> + its TTL; returns how many.</summary>
    Task<int> ExtendOpenLeasesAsync(DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>One registered specialization.</summary>
    Task<SpecializationRecord?> GetSpecializationAsync(string cluster, string agentId, string name, CancellationToken cancellationToken);

    /// <summary>Every specialization of one agent, by name.</summary>
    Task<IReadOnlyList<SpecializationRecord>> GetSpecializationsAsync(string cluster, string agentId, CancellationToken cancellationToken);

    /// <summary>Inserts or replaces a specialization.</summary>
    Task UpsertSpecializationAsync(SpecializationRecord specialization, CancellationToken cancellationToken);

    /// <summary>Removes a specialization; false when it was not there.</summary>
    Task<bool> DeleteSpecializationAsync(string cluster, string agentId, string name, CancellationToken cancellationToken);

    // ---- A2A agent cards ----

    /// <summary>An agent's A2A Agent Card, or null when it has none.</summary>
    Task<AgentCardRecord?> GetCardAsync(string cluster, string agentId, CancellationToken cancellationToken);

    /// <summary>Inserts or replaces an agent's card.</summary>
    Task UpsertCardAsync(AgentCardRecord card, CancellationToken cancellationToken);

    /// <summary>Removes an agent's card; false when it had none.</summary>
    Task<bool> DeleteCardAsync(string cluster, string agentId, CancellationToken cancellationToken);

    /// <summary>A key by id.</summary>
    Task<ApiKeyRecord?> GetKeyAsync(string keyId, CancellationToken cancellationToken);

    /// <summary>Inserts or replaces a key.</summary>
    Task UpsertKeyAsync(ApiKeyRecord key, CancellationToken cancellationToken);

    /// <summary>Appends an event and returns its revision, strictly above every earlier one.</summary>
    Task<long> AppendEventAsync(string cluster, string type, DateTimeOffset at, string? agentId, string? sessionId, JsonElement? data, CancellationToken cancellationToken);

    /// <summary>A command by id.</summary>
    Task<CommandRecord?> GetCommandAsync(string commandId, CancellationToken cancellationToken);

    /// <summary>The command created by <paramref name="createdBy"/> with this idempotency key, if any.</summary>
    Task<CommandRecord?> FindCommandByIdempotencyKeyAsync(string createdBy, string idempotencyKey, CancellationToken cancellationToken);

    /// <summary>The next sequence number of an agent's command stream: one above the highest ever used (1 for the first).</summary>
    Task<long> NextCommandSequenceAsync(string cluster, string agentId, CancellationToken cancellationToken);

    /// <summary>Inserts a new command.</summary>
    Task InsertCommandAsync(CommandRecord command, CancellationToken cancellationToken);

    /// <summary>Replaces a command's mutable fields (status, result, times, delivery count).</summary>
    Task UpdateCommandAsync(CommandRecord command, CancellationToken cancellationToken);

    /// <summary>
    /// Records one hand-out of a command without reading it: a queued one becomes delivered at <paramref name="at"/>
    /// (no longer expiring, unless it is a kill), a delivered one counts another delivery, and any other changes nothing.
    /// </summary>
    Task<CommandDelivery> RecordDeliveryAsync(string commandId, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Pending (queued or delivered) commands whose deadline is at or before <paramref name="now"/>, oldest deadline first.</summary>
    Task<IReadOnlyList<CommandRecord>> ListDueCommandsAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken);

    /// <summary>The agent's pending (queued or delivered) kill command, if any.</summary>
    Task<CommandRecord?> GetPendingKillAsync(string cluster, string agentId, CancellationToken cancellationToken);

    /// <summary>Open sessions with a max_runtime that has passed at <paramref name="now"/> (started_at + max_runtime &lt;= now).</summary>
    Task<IReadOnlyList<SessionRecord>> ListRuntimeExceededSessionsAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken);

    /// <summary>Deletes events with a revision at or below <paramref name="throughRevision"/>; returns how many.</summary>
    Task<int> CompactEventsAsync(long throughRevision, CancellationToken cancellationToken);

    /// <summary>Appends an audit entry.</summary>
    Task AppendAuditAsync(AuditRecord entry, CancellationToken cancellationToken);
}

