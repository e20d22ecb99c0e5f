using System.Collections.Concurrent;

namespace SessionMesh.Mesh;

/// <summary>The signals of one server process: what the embedded store needs.</summary>
public sealed class InProcessMeshSignals : IMeshSignals
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _signals = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Listeners> _listeners = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, CancellationTokenSource> _cancellations = new(StringComparer.Ordinal);

    /// <summary>The keys something waits on through <see cref="Next"/> (for tests: what the signals hold on to).</summary>
    internal IEnumerable<string> WaitedKeys => _signals.Keys;

    /// <inheritdoc />
    public Task Next(string key) =>
        _signals.GetOrAdd(key, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    /// <inheritdoc />
    public CancellationToken NextCancellation(string key) =>
        _cancellations.GetOrAdd(key, static _ => new CancellationTokenSource()).Token;

    /// <inheritdoc />
    public void Notify(string key)
    {
        if (_signals.TryRemove(key, out var signal))
        {
            signal.TrySetResult();
        }
        if (_cancellations.TryRemove(key, out var cancellation))
        {
            // Off the notifier's thread: the waits it ends run their continuations elsewhere.
            _ = cancellation.CancelAsync();
        }
        if (_listeners.TryGetValue(key, out var listeners))
        {
            foreach (var wake in Volatile.Read(ref listeners.Wakes))
            {
                wake();
            }
        }
    }

    /// <inheritdoc />
    public void Release(string key) => Notify(key);

    /// <summary>Wakes everything waiting on any key: each waiter reads the store again (after a replica missed notifications).</summary>
    public void NotifyAll()
    {
        foreach (var key in _signals.Keys.Concat(_cancellations.Keys).Concat(_listeners.Keys).Distinct(StringComparer.Ordinal))
        {
            Notify(key);
        }
    }

    /// <inheritdoc />
    public IDisposable Listen(string key, Action? wake = null)
    {
        while (true)
        {
            var listeners = _listeners.GetOrAdd(key, static _ => new Listeners());
            lock (listeners)
            {
                // A set whose last listener left is being removed: take (or make) the one that replaces it.
                if (listeners.Count < 0)
                {
                    continue;
                }
                listeners.Count++;
                if (wake is not null)
                {
                    Volatile.Write(ref listeners.Wakes, [.. listeners.Wakes, wake]);
                }
            }
            return new Listener(this, key, listeners, wake);
        }
    }

    /// <inheritdoc />
    public bool HasListener(string key) => _listeners.TryGetValue(key, out var listeners) && Volatile.Read(ref listeners.Count) > 0;

    /// <summary>The streams attached to one key, and the wake-ups of those that gave one (copied on change, read without a lock).</summary>
    private sealed class Listeners
    {
        public int Count;
        public Action[] Wakes = [];
    }

    private sealed class Listener(InProcessMeshSignals owner, string key, Listeners listeners, Action? wake) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0)
            {
                return;
            }
            lock (listeners)
            {
                if (wake is not null)
                {
                    var index = Array.IndexOf(listeners.Wakes, wake);
                    Volatile.Write(ref listeners.Wakes, [.. listeners.Wakes[..index], .. listeners.Wakes[(index + 1)..]]);
                }
                if (--listeners.Count == 0)
                {
                    listeners.Count = -1;
                    owner._listeners.TryRemove(new KeyValuePair<string, Listeners>(key, listeners));
                }
            }
        }
    }
}
