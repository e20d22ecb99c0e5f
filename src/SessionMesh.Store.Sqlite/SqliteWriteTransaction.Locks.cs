using SessionMesh.Model;

namespace SessionMesh.Store.Sqlite;

internal sealed partial class SqliteWriteTransaction
{
    public Task<LockRecord?> GetLockAsync(string cluster, string name, CancellationToken cancellationToken) =>
        SqliteMeshStore.SelectLockAsync(Db, cluster, name, cancellationToken);

    public Task UpsertLockAsync(LockRecord lockRecord, CancellationToken cancellationToken) =>
        WriteAsync(db => SqliteMeshStore.UpsertLockAsync(db, lockRecord, cancellationToken));

    public Task<bool> DeleteLockAsync(string cluster, string name, CancellationToken cancellationToken) =>
        WriteAsync(db => SqliteMeshStore.DeleteLockAsync(db, cluster, name, cancellationToken));

    public Task<IReadOnlyList<LockRecord>> ListLocksHeldByAsync(string sessionId, CancellationToken cancellationToken) =>
        SqliteMeshStore.SelectLocksHeldByAsync(Db, sessionId, cancellationToken);

    public Task<IReadOnlyList<LockRecord>> ListExpiredLocksAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken) =>
        SqliteMeshStore.SelectExpiredLocksAsync(Db, now, limit, cancellationToken);

    public Task<int> DeleteLapsedLockDelaysAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        WriteAsync(db => SqliteMeshStore.DeleteLapsedLockDelaysAsync(db, now, cancellationToken));
}
