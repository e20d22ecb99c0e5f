using System.Collections.Concurrent;

namespace SessionMesh.Mesh;

/// <summary>
/// In-process wake-ups after commits: an agent's stream wakes when a command for it is queued or its session
/// ends; event watchers wake on a new revision; a waiter on one command wakes when it changes. A waiter takes
/// the signal before it reads the store, so a commit between the read and the wait is never missed.
/// </summary>
public sealed class MeshSignals
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _signals = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _listeners = new(StringComparer.Ordinal);

    public static string AgentKey(string cluster, string agentId) => $"agent\n{cluster}\n{agentId}";

    public static string CommandKey(string commandId) => "command\n" + commandId;

    public const string RevisionKey = "revision";

    /// <summary>A task that completes at the next <see cref="Notify"/> of <paramref name="key"/>.</summary>
    public Task Next(string key) =>
        _signals.GetOrAdd(key, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    public void Notify(string key)
    {
        if (_signals.TryRemove(key, out var signal))
        {
            signal.TrySetResult();
        }
    }

    /// <summary>Marks a stream as attached to <paramref name="key"/> until the returned handle is disposed.</summary>
    public IDisposable Listen(string key)
    {
        _listeners.AddOrUpdate(key, 1, static (_, n) => n + 1);
        return new Listener(this, key);
    }

    /// <summary>True while at least one stream is attached to <paramref name="key"/>.</summary>
    public bool HasListener(string key) => _listeners.TryGetValue(key, out var n) && n > 0;

    private sealed class Listener(MeshSignals owner, string key) : IDisposable
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
