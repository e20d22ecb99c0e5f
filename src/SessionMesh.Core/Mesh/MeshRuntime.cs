using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SessionMesh.Store;

namespace SessionMesh.Mesh;

/// <summary>
/// What every mesh service shares: the store, the clock, the limits and the wake-ups. Its members are internal:
/// the services are the mesh's surface, and nothing outside Core reaches the store through them.
/// </summary>
public sealed class MeshRuntime(IMeshStore store, TimeProvider time, MeshOptions options, IMeshSignals signals, ILoggerFactory? loggerFactory = null, LeaseTable? leases = null)
{
    internal IMeshStore Store => store;

    /// <summary>The leases of open sessions, in memory; the store has them as of the last checkpoint.</summary>
    internal LeaseTable Leases { get; } = leases ?? new LeaseTable(store);

    internal TimeProvider Time => time;

    internal MeshOptions Options => options;

    internal IMeshSignals Signals => signals;

    internal ILogger Logger { get; } = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("SessionMesh.Mesh");

    /// <summary>The current time at the millisecond precision the stores keep, so a stored time reads back equal.</summary>
    internal DateTimeOffset Now()
    {
        var now = time.GetUtcNow();
        return now.AddTicks(-(now.Ticks % TimeSpan.TicksPerMillisecond));
    }

    /// <summary>
    /// Commits, then applies the transaction's lease changes (sessions opened and ended) to the lease table, and wakes
    /// event watchers (when events were appended) and the given streams and waiters.
    /// </summary>
    internal async Task CommitAsync(IMeshWriteTransaction tx, long lastRevision, CancellationToken cancellationToken, params IEnumerable<string> notify)
    {
        await tx.CommitAsync(cancellationToken);
        Leases.Committed(tx);
        if (lastRevision > 0)
        {
            signals.Notify(SignalKeys.Revision);
        }
        foreach (var key in notify)
        {
            signals.Notify(key);
        }
    }

    /// <summary>Appends an event whose data is <paramref name="data"/>, serialised with the shared JSON context.</summary>
    internal static Task<long> AppendEventAsync<T>(IMeshWriteTransaction tx, string type, string cluster, DateTimeOffset at, string? agentId, string? sessionId, T data, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken) =>
        tx.AppendEventAsync(cluster, type, at, agentId, sessionId, JsonSerializer.SerializeToElement(data, typeInfo), cancellationToken);

    /// <summary>
    /// Waits for <paramref name="signal"/>, until <paramref name="timeout"/> passes on the mesh's clock, or until
    /// <paramref name="cancellationToken"/> fires — without throwing, so a stream can end cleanly; callers check the token.
    /// </summary>
    internal async Task WaitAsync(Task signal, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (timeout <= TimeSpan.Zero || cancellationToken.IsCancellationRequested)
        {
            return;
        }
        using var timeoutCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var delay = Task.Delay(timeout, time, timeoutCts.Token);
        await Task.WhenAny(signal, delay);
        await timeoutCts.CancelAsync();
    }
}
