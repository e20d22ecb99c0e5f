using System.Collections.Concurrent;

namespace SessionMesh.Mesh;

/// <summary>The signals of one server process: what the embedded store needs.</summary>
public sealed class InProcessMeshSignals : IMeshSignals
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _signals = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _listeners = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, CancellationTokenSource> _cancellations = new(StringComparer.Ordinal);

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
    }

    /// <inheritdoc />
    public void Release(string key) => Notify(key);

    /// <summary>Wakes everything waiting on any key: each waiter reads the store again (after a replica missed notifications).</summary>
    public void NotifyAll()
    {
        foreach (var key in _signals.Keys.Concat(_cancellations.Keys))
        {
            Notify(key);
        }
    }

    /// <inheritdoc />
    public IDisposable Listen(string key)
    {
        _listeners.AddOrUpdate(key, 1, static (_, n) => n + 1);
        return new Listener(this, key);
    }

    /// <inheritdoc />
    public bool HasListener(string key) => _listeners.TryGetValue(key, out var n) && n > 0;

    private sealed class Listener(InProcessMeshSignals owner, string key) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                owner._listeners.AddOrUpdate(key, 0, static (_, n) => n - 1);
                owner._listeners.TryRemove(new KeyValuePair<string, int>(key, 0));
            }
        }
    }
}
