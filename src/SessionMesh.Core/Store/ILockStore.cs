using SessionMesh.Model;

namespace SessionMesh.Store;

/// <summary>The reads of session-bound locks, part of <see cref="IMeshStore"/>.</summary>
public interface ILockStore
{
    /// <summary>A lock by name, held or in its lock-delay; null when there is no row.</summary>
    Task<LockRecord?> GetLockAsync(string cluster, string name, CancellationToken cancellationToken);

    /// <summary>Held locks of a cluster ordered by name, after <paramref name="afterName"/> when given.</summary>
    Task<IReadOnlyList<LockRecord>> ListLocksAsync(string cluster, string? afterName, int limit, CancellationToken cancellationToken);
}
