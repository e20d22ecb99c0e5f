using System.Text.Json;
using Microsoft.Data.Sqlite;
using SessionMesh.Model;

namespace SessionMesh.Store.Sqlite;

/// <summary>
/// One write on the store's writer connection, holding the store's write lock from
/// <see cref="SqliteMeshStore.BeginWriteAsync"/> until disposed. The SQL lives with the store's
/// feature partials, shared with the reads.
/// </summary>
internal sealed class SqliteWriteTransaction(SqliteMeshStore store, SqliteDb db) : IMeshWriteTransaction
{
    private readonly SqliteTransaction _transaction = db.Transaction!;
    private bool _committed;
    private bool _disposed;

    public async Task CommitAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_committed)
        {
            throw new InvalidOperationException("The transaction is already committed.");
        }
        await _transaction.CommitAsync(cancellationToken);
        _committed = true;
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        var broken = false;
        try
        {
            // Disposing an uncommitted SqliteTransaction rolls it back.
            await _transaction.DisposeAsync();
        }
        catch (SqliteException)
        {
            // The connection is in an unknown state: the store reopens it for the next write.
            broken = true;
        }
        finally
        {
            await store.EndWriteAsync(broken);
        }
    }

    public Task<AgentRecord?> GetAgentAsync(string cluster, string agentId, CancellationToken cancellationToken) =>
        SqliteMeshStore.SelectAgentAsync(Db, cluster, agentId, cancellationToken);

    public Task UpsertAgentAsync(AgentRecord agent, CancellationToken cancellationToken) =>
        SqliteMeshStore.UpsertAgentAsync(Db, agent, cancellationToken);

    public Task<SessionRecord?> GetOpenSessionAsync(string cluster, string agentId, CancellationToken cancellationToken) =>
        SqliteMeshStore.SelectOpenSessionAsync(Db, cluster, agentId, cancellationToken);

    public Task<SessionRecord?> GetSessionAsync(string sessionId, CancellationToken cancellationToken) =>
        SqliteMeshStore.SelectSessionAsync(Db, sessionId, cancellationToken);

    public Task InsertSessionAsync(SessionRecord session, CancellationToken cancellationToken) =>
        SqliteMeshStore.InsertSessionAsync(Db, session, cancellationToken);

    public Task UpdateSessionAsync(SessionRecord session, CancellationToken cancellationToken) =>
        SqliteMeshStore.UpdateSessionAsync(Db, session, cancellationToken);

    public Task<int> CountLiveChildrenAsync(string cluster, string parentId, DateTimeOffset now, CancellationToken cancellationToken) =>
        SqliteMeshStore.CountLiveChildrenAsync(Db, cluster, parentId, now, cancellationToken);

    public Task<IReadOnlyList<SessionRecord>> ListOpenSessionsAsync(string? afterSessionId, int limit, CancellationToken cancellationToken) =>
        SqliteMeshStore.ListOpenSessionsAsync(Db, afterSessionId, limit, cancellationToken);

    public Task<int> UpdateLeasesAsync(IReadOnlyCollection<SessionRecord> leases, CancellationToken cancellationToken) =>
        SqliteMeshStore.UpdateLeasesAsync(Db, leases, cancellationToken);

    public async Task<SessionRecord?> GetLatestSessionAsync(string cluster, string agentId, CancellationToken cancellationToken) =>
        await SqliteMeshStore.SelectLatestSessionsAsync(Db, cluster, [agentId], cancellationToken) is [var latest, ..] ? latest : null;

    public Task<IReadOnlyList<AgentRecord>> GetChildrenAsync(string cluster, IReadOnlyCollection<string> parentIds, CancellationToken cancellationToken) =>
        SqliteMeshStore.SelectChildrenAsync(Db, cluster, parentIds, cancellationToken);

    public Task<int> ExtendOpenLeasesAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        SqliteMeshStore.ExtendOpenLeasesAsync(Db, now, cancellationToken);

    public Task<SpecializationRecord?> GetSpecializationAsync(string cluster, string agentId, string name, CancellationToken cancellationToken) =>
        SqliteMeshStore.SelectSpecializationAsync(Db, cluster, agentId, name, cancellationToken);

    public Task UpsertSpecializationAsync(SpecializationRecord specialization, CancellationToken cancellationToken) =>
        SqliteMeshStore.UpsertSpecializationAsync(Db, specialization, cancellationToken);

    public Task<bool> DeleteSpecializationAsync(string cluster, string agentId, string name, CancellationToken cancellationToken) =>
        SqliteMeshStore.DeleteSpecializationAsync(Db, cluster, agentId, name, cancellationToken);

    public Task<ApiKeyRecord?> GetKeyAsync(string keyId, CancellationToken cancellationToken) =>
        SqliteMeshStore.SelectKeyAsync(Db, keyId, cancellationToken);

    public Task UpsertKeyAsync(ApiKeyRecord key, CancellationToken cancellationToken) =>
        SqliteMeshStore.UpsertKeyAsync(Db, key, cancellationToken);

    public Task<long> AppendEventAsync(string cluster, string type, DateTimeOffset at, string? agentId, string? sessionId, JsonElement? data, CancellationToken cancellationToken) =>
        SqliteMeshStore.InsertEventAsync(Db, cluster, type, at, agentId, sessionId, data, cancellationToken);

    public Task<CommandRecord?> GetCommandAsync(string commandId, CancellationToken cancellationToken) =>
        SqliteMeshStore.SelectCommandAsync(Db, commandId, cancellationToken);

    public Task<CommandRecord?> FindCommandByIdempotencyKeyAsync(string createdBy, string idempotencyKey, CancellationToken cancellationToken) =>
        SqliteMeshStore.SelectCommandByIdempotencyKeyAsync(Db, createdBy, idempotencyKey, cancellationToken);

    public Task<long> NextCommandSequenceAsync(string cluster, string agentId, CancellationToken cancellationToken) =>
        SqliteMeshStore.NextCommandSequenceAsync(Db, cluster, agentId, cancellationToken);

    public Task InsertCommandAsync(CommandRecord command, CancellationToken cancellationToken) =>
        SqliteMeshStore.InsertCommandAsync(Db, command, cancellationToken);

    public Task UpdateCommandAsync(CommandRecord command, CancellationToken cancellationToken) =>
        SqliteMeshStore.UpdateCommandAsync(Db, command, cancellationToken);

    public Task<IReadOnlyList<CommandRecord>> ListDueCommandsAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken) =>
        SqliteMeshStore.ListDueCommandsAsync(Db, now, limit, cancellationToken);

    public Task<CommandRecord?> GetPendingKillAsync(string cluster, string agentId, CancellationToken cancellationToken) =>
        SqliteMeshStore.SelectPendingKillAsync(Db, cluster, agentId, cancellationToken);

    public Task<IReadOnlyList<SessionRecord>> ListRuntimeExceededSessionsAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken) =>
        SqliteMeshStore.ListRuntimeExceededSessionsAsync(Db, now, limit, cancellationToken);

    public Task<int> CompactEventsAsync(long throughRevision, CancellationToken cancellationToken) =>
        SqliteMeshStore.CompactEventsAsync(Db, throughRevision, cancellationToken);

    public Task AppendAuditAsync(AuditRecord entry, CancellationToken cancellationToken) =>
        SqliteMeshStore.InsertAuditAsync(Db, entry, cancellationToken);

    /// <summary>The transaction's connection; refused once committed or disposed.</summary>
    private SqliteDb Db
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_committed)
            {
                throw new InvalidOperationException("The transaction is already committed.");
            }
            return db;
        }
    }
}
