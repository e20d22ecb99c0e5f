using SessionMesh.Model;

namespace SessionMesh.Store.Postgres;

internal sealed partial class PostgresWriteTransaction
{
    public Task<LockRecord?> GetLockAsync(string cluster, string name, CancellationToken cancellationToken) =>
        PostgresMeshStore.SelectLockAsync(Db, cluster, name, cancellationToken);

    public Task UpsertLockAsync(LockRecord lockRecord, CancellationToken cancellationToken) =>
        WriteAsync(db => PostgresMeshStore.UpsertLockAsync(db, lockRecord, cancellationToken));

    public Task<bool> DeleteLockAsync(string cluster, string name, CancellationToken cancellationToken) =>
        WriteAsync(db => PostgresMeshStore.DeleteLockAsync(db, cluster, name, cancellationToken));

    public Task<IReadOnlyList<LockRecord>> ListLocksHeldByAsync(string sessionId, CancellationToken cancellationToken) =>
        PostgresMeshStore.SelectLocksHeldByAsync(Db, sessionId, cancellationToken);

    public Task<IReadOnlyList<LockRecord>> ListExpiredLocksAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken) =>
        PostgresMeshStore.SelectExpiredLocksAsync(Db, now, limit, cancellationToken);

    public Task<int> DeleteLapsedLockDelaysAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        WriteAsync(db => PostgresMeshStore.DeleteLapsedLockDelaysAsync(db, now, cancellationToken));
}
