using System.Collections.Concurrent;

namespace SessionMesh.Store.Postgres;

/// <summary>
/// Which streams the other replicas hold, so a steer taken here waits for a push made there (and can answer
/// <c>delivered</c>). A replica announces a key when its first stream on it attaches and again when its last one
/// detaches; one that starts listening asks the others to announce all theirs. What is heard can go stale (a replica
/// killed with streams open says nothing): a steer that waited in vain forgets it, and a broken link forgets all of it
/// and asks again.
/// </summary>
public sealed partial class PostgresMeshSignals
{
    private const string Attached = "listener+\n";
    private const string Detached = "listener-\n";
    private const string WhoListens = "listeners?";

    private readonly Dictionary<string, int> _ownListeners = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, bool>> _remoteListeners = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public IDisposable Listen(string key, Action? wake = null)
    {
        var local = _local.Listen(key, wake);
        lock (_ownListeners)
        {
            var count = _ownListeners.GetValueOrDefault(key) + 1;
            _ownListeners[key] = count;
            if (count == 1)
            {
                _outgoing.Writer.TryWrite(Attached + key);
            }
        }
        return new OwnListener(this, key, local);
    }

    /// <inheritdoc />
    public bool HasListener(string key) =>
        _local.HasListener(key) || (_remoteListeners.TryGetValue(key, out var origins) && !origins.IsEmpty);

    /// <inheritdoc />
    public void ForgetRemoteListeners(string key) => _remoteListeners.TryRemove(key, out _);

    /// <summary>True when <paramref name="key"/> was an announcement about listeners (handled here, not a wake-up).</summary>
    private bool HeardListeners(string origin, string key)
    {
        if (key.StartsWith(Attached, StringComparison.Ordinal))
        {
            _remoteListeners.GetOrAdd(key[Attached.Length..], static _ => new(StringComparer.Ordinal))[origin] = true;
            return true;
        }
        if (key.StartsWith(Detached, StringComparison.Ordinal))
        {
            if (_remoteListeners.TryGetValue(key[Detached.Length..], out var origins))
            {
                origins.TryRemove(origin, out _);
            }
            return true;
        }
        if (key == WhoListens)
        {
            AnnounceOwnListeners();
            return true;
        }
        return false;
    }

    /// <summary>After a break (or at the first listen): forget what was heard, and ask every replica, this one's included.</summary>
    private void RelearnListeners()
    {
        _remoteListeners.Clear();
        _outgoing.Writer.TryWrite(WhoListens);
        AnnounceOwnListeners();
    }

    private void AnnounceOwnListeners()
    {
        lock (_ownListeners)
        {
            foreach (var key in _ownListeners.Keys)
            {
                _outgoing.Writer.TryWrite(Attached + key);
            }
        }
    }

    private sealed class OwnListener(PostgresMeshSignals owner, string key, IDisposable local) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0)
            {
                return;
            }
            local.Dispose();
            lock (owner._ownListeners)
            {
                var count = owner._ownListeners[key] - 1;
                if (count > 0)
                {
                    owner._ownListeners[key] = count;
                    return;
                }
                owner._ownListeners.Remove(key);
                owner._outgoing.Writer.TryWrite(Detached + key);
            }
        }
    }
}
