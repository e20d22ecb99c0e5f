using SessionMesh.Model;

namespace SessionMesh.Store;

/// <summary>
/// The writes of session-bound locks, part of <see cref="IMeshWriteTransaction"/>. One row per (cluster, name) is the
/// store's unique key: two holders of one lock cannot both be written.
/// </summary>
public interface ILockWriteTransaction
{
    /// <summary>A lock by name, held or in its lock-delay; null when there is no row.</summary>
    Task<LockRecord?> GetLockAsync(string cluster, string name, CancellationToken cancellationToken);

    /// <summary>Inserts a lock, or replaces the row of the same (cluster, name).</summary>
    Task UpsertLockAsync(LockRecord lockRecord, CancellationToken cancellationToken);

    /// <summary>Removes a lock's row; false when there was none.</summary>
    Task<bool> DeleteLockAsync(string cluster, string name, CancellationToken cancellationToken);

    /// <summary>The locks <paramref name="sessionId"/> holds, by cluster and name.</summary>
    Task<IReadOnlyList<LockRecord>> ListLocksHeldByAsync(string sessionId, CancellationToken cancellationToken);

    /// <summary>Held locks whose TTL has passed at <paramref name="now"/> (expires_at &lt;= now), earliest first.</summary>
    Task<IReadOnlyList<LockRecord>> ListExpiredLocksAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken);

    /// <summary>Removes the rows of released locks whose lock-delay has ended at <paramref name="now"/>; returns how many.</summary>
    Task<int> DeleteLapsedLockDelaysAsync(DateTimeOffset now, CancellationToken cancellationToken);
}
