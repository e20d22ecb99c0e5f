using System.Text.Json;
using Microsoft.Data.Sqlite;
using SessionMesh.Model;

namespace SessionMesh.Store.Sqlite;

/// <summary>
/// One write: a savepoint in the store's open <see cref="WriteBatch"/>, holding the store's write lock from
/// <see cref="SqliteMeshStore.BeginWriteAsync"/> until it commits (releases the savepoint into the batch) or is
/// disposed (rolls back to the savepoint, so only its own changes vanish). The SQL lives with the store's feature
/// partials, shared with the reads.
/// </summary>
internal sealed partial class SqliteWriteTransaction(SqliteMeshStore store, BatchedWrite batched) : IMeshWriteTransaction
{
    private readonly SqliteDb _db = new(((SqliteBatchTransaction)batched.Batch.Transaction).Writer, null, store.Statements);
    // Commands this write inserted or read: they exist, so their events' heavy fields can be lifted without a lookup.
    private HashSet<string>? _knownCommands;

    /// <inheritdoc cref="BatchedWrite.CommitAsync"/>
    public Task CommitAsync(CancellationToken cancellationToken) => batched.CommitAsync(cancellationToken);

    public ValueTask DisposeAsync() => batched.DisposeAsync();

    public Task<AgentRecord?> GetAgentAsync(string cluster, string agentId, CancellationToken cancellationToken) =>
        SqliteMeshStore.SelectAgentAsync(Db, cluster, agentId, cancellationToken);

    public Task UpsertAgentAsync(AgentRecord agent, CancellationToken cancellationToken) =>
        WriteAsync(db => SqliteMeshStore.UpsertAgentAsync(db, agent, cancellationToken));

    public Task<SessionRecord?> GetOpenSessionAsync(string cluster, string agentId, CancellationToken cancellationToken) =>
        SqliteMeshStore.SelectOpenSessionAsync(Db, cluster, agentId, cancellationToken);

    public Task<SessionRecord?> GetSessionAsync(string sessionId, CancellationToken cancellationToken) =>
        SqliteMeshStore.SelectSessionAsync(Db, sessionId, cancellationToken);

    public Task InsertSessionAsync(SessionRecord session, CancellationToken cancellationToken) =>
        WriteAsync(db => SqliteMeshStore.InsertSessionAsync(db, session, cancellationToken));

    public Task UpdateSessionAsync(SessionRecord session, CancellationToken cancellationToken) =>
        WriteAsync(db => SqliteMeshStore.UpdateSessionAsync(db, session, cancellationToken));

    public Task<int> CountLiveChildrenAsync(string cluster, string parentId, DateTimeOffset now, CancellationToken cancellationToken) =>
        SqliteMeshStore.CountLiveChildrenAsync(Db, cluster, parentId, now, cancellationToken);

    public Task<IReadOnlyList<SessionRecord>> ListOpenSessionsAsync(string? afterSessionId, int limit, CancellationToken cancellationToken) =>
        SqliteMeshStore.ListOpenSessionsAsync(Db, afterSessionId, limit, cancellationToken);

    public Task<int> UpdateLeasesAsync(IReadOnlyCollection<SessionRecord> leases, CancellationToken cancellationToken) =>
        WriteAsync(db => SqliteMeshStore.UpdateLeasesAsync(db, leases, withBudgets: true, cancellationToken));

    public Task<int> UpdateLeasesExceptBudgetsAsync(IReadOnlyCollection<SessionRecord> leases, CancellationToken cancellationToken) =>
        WriteAsync(db => SqliteMeshStore.UpdateLeasesAsync(db, leases, withBudgets: false, cancellationToken));

    public Task<IReadOnlyList<SessionRecord>> GetSessionsForUpdateAsync(IReadOnlyCollection<string> sessionIds, CancellationToken cancellationToken) =>
        SqliteMeshStore.SelectSessionsForUpdateAsync(Db, sessionIds, cancellationToken);

    public Task<int> UpdateBudgetChargesAsync(IReadOnlyCollection<SessionRecord> sessions, CancellationToken cancellationToken) =>
        WriteAsync(db => SqliteMeshStore.UpdateBudgetChargesAsync(db, sessions, cancellationToken));

    public async Task<SessionRecord?> GetLatestSessionAsync(string cluster, string agentId, CancellationToken cancellationToken) =>
        await SqliteMeshStore.SelectLatestSessionsAsync(Db, cluster, [agentId], cancellationToken) is [var latest, ..] ? latest : null;

    public Task<IReadOnlyList<AgentRecord>> GetChildrenAsync(string cluster, IReadOnlyCollection<string> parentIds, CancellationToken cancellationToken) =>
        SqliteMeshStore.SelectChildrenAsync(Db, cluster, parentIds, cancellationToken);

    public Task<int> ExtendOpenLeasesAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        WriteAsync(db => SqliteMeshStore.ExtendOpenLeasesAsync(db, now, cancellationToken));

    public Task<IReadOnlyList<SpecializationRecord>> GetSpecializationsAsync(string cluster, string agentId, CancellationToken cancellationToken) =>
        SqliteMeshStore.SelectSpecializationsAsync(Db, cluster, [agentId], cancellationToken);

    public Task<SpecializationRecord?> GetSpecializationAsync(string cluster, string agentId, string name, CancellationToken cancellationToken) =>
        SqliteMeshStore.SelectSpecializationAsync(Db, cluster, agentId, name, cancellationToken);

    public Task UpsertSpecializationAsync(SpecializationRecord specialization, CancellationToken cancellationToken) =>
        WriteAsync(db => SqliteMeshStore.UpsertSpecializationAsync(db, specialization, cancellationToken));

    public Task<bool> DeleteSpecializationAsync(string cluster, string agentId, string name, CancellationToken cancellationToken) =>
        WriteAsync(db => SqliteMeshStore.DeleteSpecializationAsync(db, cluster, agentId, name, cancellationToken));

    public Task<AgentCardRecord?> GetCardAsync(string cluster, string agentId, CancellationToken cancellationToken) =>
        SqliteMeshStore.SelectCardAsync(Db, cluster, agentId, cancellationToken);

    public Task UpsertCardAsync(AgentCardRecord card, CancellationToken cancellationToken) =>
        WriteAsync(db => SqliteMeshStore.UpsertCardAsync(db, card, cancellationToken));

    public Task<bool> DeleteCardAsync(string cluster, string agentId, CancellationToken cancellationToken) =>
        WriteAsync(db => SqliteMeshStore.DeleteCardAsync(db, cluster, agentId, cancellationToken));

    public Task<ApiKeyRecord?> GetKeyAsync(string keyId, CancellationToken cancellationToken) =>
        SqliteMeshStore.SelectKeyAsync(Db, keyId, cancellationToken);

    public Task UpsertKeyAsync(ApiKeyRecord key, CancellationToken cancellationToken) =>
        WriteAsync(db => SqliteMeshStore.UpsertKeyAsync(db, key, cancellationToken));

    public Task<long> AppendEventAsync(string cluster, string type, DateTimeOffset at, string? agentId, string? sessionId, JsonElement? data, CancellationToken cancellationToken) =>
        WriteAsync(db => SqliteMeshStore.InsertEventAsync(db, cluster, type, at, agentId, sessionId, data, cancellationToken, KnowsCommand));

    public async Task<CommandRecord?> GetCommandAsync(string commandId, CancellationToken cancellationToken)
    {
        var command = await SqliteMeshStore.SelectCommandAsync(Db, commandId, cancellationToken);
        if (command is not null)
        {
            Know(commandId);
        }
        return command;
    }

    public Task<CommandRecord?> FindCommandByIdempotencyKeyAsync(string createdBy, string idempotencyKey, CancellationToken cancellationToken) =>
        SqliteMeshStore.SelectCommandByIdempotencyKeyAsync(Db, createdBy, idempotencyKey, cancellationToken);

    public Task<long> NextCommandSequenceAsync(string cluster, string agentId, CancellationToken cancellationToken) =>
        SqliteMeshStore.NextCommandSequenceAsync(Db, cluster, agentId, cancellationToken);

    public async Task InsertCommandAsync(CommandRecord command, CancellationToken cancellationToken)
    {
        await WriteAsync(db => SqliteMeshStore.InsertCommandAsync(db, command, cancellationToken));
        Know(command.CommandId);
    }

    private void Know(string commandId) => (_knownCommands ??= new HashSet<string>(StringComparer.Ordinal)).Add(commandId);

    private bool KnowsCommand(string commandId) => _knownCommands?.Contains(commandId) ?? false;

    public Task UpdateCommandAsync(CommandRecord command, CancellationToken cancellationToken) =>
        WriteAsync(db => SqliteMeshStore.UpdateCommandAsync(db, command, cancellationToken));

    public async Task<CommandDelivery> RecordDeliveryAsync(string commandId, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var found = await WriteAsync(db => SqliteMeshStore.RecordDeliveryAsync(db, commandId, at, cancellationToken));
        if (found != CommandDelivery.NotPending)
        {
            // The row is there: the delivery's event may lift the command's payload (see CommandEventData).
            Know(commandId);
        }
        return found;
    }

    public Task<IReadOnlyList<CommandRecord>> ListDueCommandsAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken) =>
        SqliteMeshStore.ListDueCommandsAsync(Db, now, limit, cancellationToken);

    public Task<CommandRecord?> GetPendingKillAsync(string cluster, string agentId, CancellationToken cancellationToken) =>
        SqliteMeshStore.SelectPendingKillAsync(Db, cluster, agentId, cancellationToken);

    public Task<IReadOnlyList<SessionRecord>> ListRuntimeExceededSessionsAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken) =>
        SqliteMeshStore.ListRuntimeExceededSessionsAsync(Db, now, limit, cancellationToken);

    public Task<int> CompactEventsAsync(long throughRevision, CancellationToken cancellationToken) =>
        WriteAsync(db => SqliteMeshStore.CompactEventsAsync(db, throughRevision, cancellationToken));

    public Task AppendAuditAsync(AuditRecord entry, CancellationToken cancellationToken) =>
        WriteAsync(db => SqliteMeshStore.InsertAuditAsync(db, entry, cancellationToken));

    /// <summary>
    /// Runs a write on the transaction's connection. A write the store has no room for is refused as
    /// <c>storage_full</c> (<see cref="SqliteMeshStore.Refused"/>), and remembered in case the batch must fail with it.
    /// </summary>
    internal async Task<T> WriteAsync<T>(Func<SqliteDb, Task<T>> write)
    {
        try
        {
            return await write(Db);
        }
        catch (SqliteException ex) when (SqliteMeshStore.IsFull(ex))
        {
            throw batched.Refused = store.Refused(ex);
        }
    }

    private Task WriteAsync(Func<SqliteDb, Task> write) => WriteAsync(async db =>
    {
        await write(db);
        return true;
    });

    /// <summary>The transaction's connection; refused once committed or disposed.</summary>
    private SqliteDb Db
    {
        get
        {
            batched.ThrowIfEnded(this);
            return _db;
        }
    }
}
