using System.Text.Json;
using Npgsql;
using SessionMesh.Model;

namespace SessionMesh.Store.Postgres;

/// <summary>
/// One write: a savepoint in the store's open <see cref="WriteBatch"/>, holding the store's write lock from
/// <see cref="PostgresMeshStore.BeginWriteAsync"/> until it commits (releases the savepoint into the batch) or is
/// disposed (rolls back to the savepoint, so only its own changes vanish; PostgreSQL also needs that after a statement
/// failed). The SQL lives with the store's feature partials, shared with the reads.
/// </summary>
internal sealed partial class PostgresWriteTransaction(PostgresMeshStore store, BatchedWrite batched) : IMeshWriteTransaction
{
    private readonly NpgsqlConnection _db = (NpgsqlConnection)batched.Batch.Transaction.Connection!;

    /// <inheritdoc cref="BatchedWrite.CommitAsync"/>
    public Task CommitAsync(CancellationToken cancellationToken) => batched.CommitAsync(cancellationToken);

    public ValueTask DisposeAsync() => batched.DisposeAsync();

    public Task<AgentRecord?> GetAgentAsync(string cluster, string agentId, CancellationToken cancellationToken) =>
        PostgresMeshStore.SelectAgentAsync(Db, cluster, agentId, cancellationToken);

    public Task UpsertAgentAsync(AgentRecord agent, CancellationToken cancellationToken) =>
        WriteAsync(db => PostgresMeshStore.UpsertAgentAsync(db, agent, cancellationToken));

    public Task<SessionRecord?> GetOpenSessionAsync(string cluster, string agentId, CancellationToken cancellationToken) =>
        PostgresMeshStore.SelectOpenSessionAsync(Db, cluster, agentId, cancellationToken);

    public Task<SessionRecord?> GetSessionAsync(string sessionId, CancellationToken cancellationToken) =>
        PostgresMeshStore.SelectSessionAsync(Db, sessionId, cancellationToken);

    public Task InsertSessionAsync(SessionRecord session, CancellationToken cancellationToken) =>
        WriteAsync(db => PostgresMeshStore.InsertSessionAsync(db, session, cancellationToken));

    public Task UpdateSessionAsync(SessionRecord session, CancellationToken cancellationToken) =>
        WriteAsync(db => PostgresMeshStore.UpdateSessionAsync(db, session, cancellationToken));

    public Task<int> CountLiveChildrenAsync(string cluster, string parentId, DateTimeOffset now, CancellationToken cancellationToken) =>
        PostgresMeshStore.CountLiveChildrenAsync(Db, cluster, parentId, now, cancellationToken);

    public Task<IReadOnlyList<SessionRecord>> ListOpenSessionsAsync(string? afterSessionId, int limit, CancellationToken cancellationToken) =>
        PostgresMeshStore.ListOpenSessionsAsync(Db, afterSessionId, limit, cancellationToken);

    public Task<int> UpdateLeasesAsync(IReadOnlyCollection<SessionRecord> leases, CancellationToken cancellationToken) =>
        WriteAsync(db => PostgresMeshStore.UpdateLeasesAsync(db, leases, withBudgets: true, cancellationToken));

    public Task<int> UpdateLeasesExceptBudgetsAsync(IReadOnlyCollection<SessionRecord> leases, CancellationToken cancellationToken) =>
        WriteAsync(db => PostgresMeshStore.UpdateLeasesAsync(db, leases, withBudgets: false, cancellationToken));

    public Task<IReadOnlyList<SessionRecord>> GetSessionsForUpdateAsync(IReadOnlyCollection<string> sessionIds, CancellationToken cancellationToken) =>
        PostgresMeshStore.SelectSessionsForUpdateAsync(Db, sessionIds, cancellationToken);

    public Task<int> UpdateBudgetChargesAsync(IReadOnlyCollection<SessionRecord> sessions, CancellationToken cancellationToken) =>
        WriteAsync(db => PostgresMeshStore.UpdateBudgetChargesAsync(db, sessions, cancellationToken));

    public async Task<SessionRecord?> GetLatestSessionAsync(string cluster, string agentId, CancellationToken cancellationToken) =>
        await PostgresMeshStore.SelectLatestSessionsAsync(Db, cluster, [agentId], cancellationToken) is [var latest, ..] ? latest : null;

    public Task<IReadOnlyList<AgentRecord>> GetChildrenAsync(string cluster, IReadOnlyCollection<string> parentIds, CancellationToken cancellationToken) =>
        PostgresMeshStore.SelectChildrenAsync(Db, cluster, parentIds, cancellationToken);

    public Task<int> ExtendOpenLeasesAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        WriteAsync(db => PostgresMeshStore.ExtendOpenLeasesAsync(db, now, cancellationToken));

    public Task<IReadOnlyList<SpecializationRecord>> GetSpecializationsAsync(string cluster, string agentId, CancellationToken cancellationToken) =>
        PostgresMeshStore.SelectSpecializationsAsync(Db, cluster, [agentId], cancellationToken);

    public Task<SpecializationRecord?> GetSpecializationAsync(string cluster, string agentId, string name, CancellationToken cancellationToken) =>
        PostgresMeshStore.SelectSpecializationAsync(Db, cluster, agentId, name, cancellationToken);

    public Task UpsertSpecializationAsync(SpecializationRecord specialization, CancellationToken cancellationToken) =>
        WriteAsync(db => PostgresMeshStore.UpsertSpecializationAsync(db, specialization, cancellationToken));

    public Task<bool> DeleteSpecializationAsync(string cluster, string agentId, string name, CancellationToken cancellationToken) =>
        WriteAsync(db => PostgresMeshStore.DeleteSpecializationAsync(db, cluster, agentId, name, cancellationToken));

    public Task<AgentCardRecord?> GetCardAsync(string cluster, string agentId, CancellationToken cancellationToken) =>
        PostgresMeshStore.SelectCardAsync(Db, cluster, agentId, cancellationToken);

    public Task UpsertCardAsync(AgentCardRecord card, CancellationToken cancellationToken) =>
        WriteAsync(db => PostgresMeshStore.UpsertCardAsync(db, card, cancellationToken));

    public Task<bool> DeleteCardAsync(string cluster, string agentId, CancellationToken cancellationToken) =>
        WriteAsync(db => PostgresMeshStore.DeleteCardAsync(db, cluster, agentId, cancellationToken));

    public Task<ApiKeyRecord?> GetKeyAsync(string keyId, CancellationToken cancellationToken) =>
        PostgresMeshStore.SelectKeyAsync(Db, keyId, cancellationToken);

    public Task UpsertKeyAsync(ApiKeyRecord key, CancellationToken cancellationToken) =>
        WriteAsync(db => PostgresMeshStore.UpsertKeyAsync(db, key, cancellationToken));

    public Task<long> AppendEventAsync(string cluster, string type, DateTimeOffset at, string? agentId, string? sessionId, JsonElement? data, CancellationToken cancellationToken) =>
        WriteAsync(db => PostgresMeshStore.InsertEventAsync(db, cluster, type, at, agentId, sessionId, data, cancellationToken));

    public Task<CommandRecord?> GetCommandAsync(string commandId, CancellationToken cancellationToken) =>
        PostgresMeshStore.SelectCommandAsync(Db, commandId, cancellationToken);

    public Task<CommandRecord?> FindCommandByIdempotencyKeyAsync(string createdBy, string idempotencyKey, CancellationToken cancellationToken) =>
        PostgresMeshStore.SelectCommandByIdempotencyKeyAsync(Db, createdBy, idempotencyKey, cancellationToken);

    public Task<long> NextCommandSequenceAsync(string cluster, string agentId, CancellationToken cancellationToken) =>
        PostgresMeshStore.NextCommandSequenceAsync(Db, cluster, agentId, cancellationToken);

    public Task InsertCommandAsync(CommandRecord command, CancellationToken cancellationToken) =>
        WriteAsync(db => PostgresMeshStore.InsertCommandAsync(db, command, cancellationToken));

    public Task UpdateCommandAsync(CommandRecord command, CancellationToken cancellationToken) =>
        WriteAsync(db => PostgresMeshStore.UpdateCommandAsync(db, command, cancellationToken));

    public Task<CommandDelivery> RecordDeliveryAsync(string commandId, DateTimeOffset at, CancellationToken cancellationToken) =>
        WriteAsync(db => PostgresMeshStore.RecordDeliveryAsync(db, commandId, at, cancellationToken));

    public Task<IReadOnlyList<CommandRecord>> ListDueCommandsAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken) =>
        PostgresMeshStore.ListDueCommandsAsync(Db, now, limit, cancellationToken);

    public Task<CommandRecord?> GetPendingKillAsync(string cluster, string agentId, CancellationToken cancellationToken) =>
        PostgresMeshStore.SelectPendingKillAsync(Db, cluster, agentId, cancellationToken);

    public Task<IReadOnlyList<SessionRecord>> ListRuntimeExceededSessionsAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken) =>
        PostgresMeshStore.ListRuntimeExceededSessionsAsync(Db, now, limit, cancellationToken);

    public Task<int> CompactEventsAsync(long throughRevision, CancellationToken cancellationToken) =>
        WriteAsync(db => PostgresMeshStore.CompactEventsAsync(db, throughRevision, cancellationToken));

    public Task AppendAuditAsync(AuditRecord entry, CancellationToken cancellationToken) =>
        WriteAsync(db => PostgresMeshStore.InsertAuditAsync(db, entry, cancellationToken));

    /// <summary>
    /// Runs a write on the transaction's connection. A write the store has no room for is refused as
    /// <c>storage_full</c> (<see cref="PostgresMeshStore.Refused"/>), and remembered in case the batch must fail with it.
    /// </summary>
    internal async Task<T> WriteAsync<T>(Func<NpgsqlConnection, Task<T>> write)
    {
        try
        {
            return await write(Db);
        }
        catch (PostgresException ex) when (PostgresMeshStore.IsFull(ex))
        {
            throw batched.Refused = store.Refused(ex);
        }
    }

    private Task WriteAsync(Func<NpgsqlConnection, Task> write) => WriteAsync(async db =>
    {
        await write(db);
        return true;
    });

    /// <summary>The transaction's connection; refused once committed or disposed.</summary>
    private NpgsqlConnection Db
    {
        get
        {
            batched.ThrowIfEnded(this);
            return _db;
        }
    }
}
