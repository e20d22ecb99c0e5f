using System.Collections.Concurrent;
using SessionMesh.Model;
using SessionMesh.Store;

namespace SessionMesh.Security;

/// <summary>
/// The keys of this server in memory, so authenticating a valid key, and checking a stream's key at each wake-up,
/// reads no store. <see cref="Mesh.KeyService"/> writes every key it changes here right after the commit (and before
/// the signals that wake streams), so a revoked or rotated-away key is refused by the very next request.
/// </summary>
/// <remarks>
/// <para>
/// Loaded lazily, one store read on the first use of a key id, rather than all keys at start: start-up does not grow
/// with the number of keys ever minted (keys are never deleted), memory holds the keys in use, and a key written by
/// another path (a restored file, another replica) is found on its first use.
/// </para>
/// <para>
/// Bounded: an entry exists only for a key id the store holds. A miss for an unknown key id is not remembered, so
/// tokens with made-up key ids cost a store read each (as before this cache) but no memory; remembering them would
/// also hide a key inserted later by another path.
/// </para>
/// <para>
/// Replicas: with a store shared by several servers, a key changed on another server must reach this cache. The
/// store's cross-process signal (PostgreSQL LISTEN/NOTIFY of <see cref="Mesh.SignalKeys.Key"/>) calls
/// <see cref="Invalidate"/> for the key id, so the next use reads the store again. A load racing an invalidation is
/// not kept (see <see cref="GetAsync"/>), so a stale read cannot overwrite it.
/// </para>
/// </remarks>
public sealed class KeyCache(IMeshStore store)
{
    private readonly ConcurrentDictionary<string, ApiKeyRecord> _keys = new(StringComparer.Ordinal);

    // Serialises writes and invalidations against the insert that ends a load; reads take no lock.
    private readonly Lock _gate = new();

    // Bumped by every write and invalidation: a load that saw another value before its store read may be stale.
    private long _generation;

    /// <summary>The key with id <paramref name="keyId"/>, whatever its state; null when the store has none.</summary>
    public ValueTask<ApiKeyRecord?> GetAsync(string keyId, CancellationToken cancellationToken) =>
        _keys.TryGetValue(keyId, out var key) ? ValueTask.FromResult<ApiKeyRecord?>(key) : LoadAsync(keyId, cancellationToken);

    /// <summary>
    /// Records a key as just committed. Call after the commit, before waking anything that checks the key. Internal:
    /// keys are written only by the mesh's key service, so only it tells the cache.
    /// </summary>
    internal void Set(ApiKeyRecord key)
    {
        // A key changes at most once after it is minted (active to revoked; the root key is replaced only at start), and
        // each change is its own commit, so two writes of one key do not race here.
        lock (_gate)
        {
            _generation++;
            _keys[key.KeyId] = key;
        }
    }

    /// <summary>Forgets a key, so its next use reads the store: what a change made by another server calls.</summary>
    public void Invalidate(string keyId)
    {
        lock (_gate)
        {
            _generation++;
            _keys.TryRemove(keyId, out _);
        }
    }

    /// <summary>
    /// Forgets the keys that stopped being valid before <paramref name="before"/> (expired, or revoked): memory holds the
    /// keys in use, not every key minted since the start, which a fleet of short-lived keys would make grow without end.
    /// A forgotten key's next use reads the store, as an unknown key id does. Returns the ids forgotten.
    /// </summary>
    internal List<string> ForgetEnded(DateTimeOffset before)
    {
        var forgotten = new List<string>();
        foreach (var (keyId, key) in _keys)
        {
            if ((key.RevokedAt is { } revoked && revoked < before) || (key.ExpiresAt is { } expires && expires <= before))
            {
                lock (_gate)
                {
                    // Only the entry seen ended: a newer write of the key stays.
                    if (_keys.TryRemove(new KeyValuePair<string, ApiKeyRecord>(keyId, key)))
                    {
                        _generation++;
                        forgotten.Add(keyId);
                    }
                }
            }
        }
        return forgotten;
    }

    /// <summary>Forgets every key, so each is read from the store at its next use: what a replica that may have missed changes calls.</summary>
    public void InvalidateAll()
    {
        lock (_gate)
        {
            _generation++;
            _keys.Clear();
        }
    }

    private async ValueTask<ApiKeyRecord?> LoadAsync(string keyId, CancellationToken cancellationToken)
    {
        var generation = Volatile.Read(ref _generation);
        var key = await store.GetKeyAsync(keyId, cancellationToken);
        if (key is null)
        {
            return null;
        }
        lock (_gate)
        {
            // A write or invalidation since the read may be newer than what was read: answer with what is in memory
            // now, or with the read, but keep only what cannot be stale.
            if (_generation == generation)
            {
                return _keys.GetOrAdd(keyId, key);
            }
            return _keys.TryGetValue(keyId, out var current) ? current : key;
        }
    }
}
