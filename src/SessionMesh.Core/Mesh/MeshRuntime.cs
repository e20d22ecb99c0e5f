using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SessionMesh.Contracts;
using SessionMesh.Model;
using SessionMesh.Security;
using SessionMesh.Store;

namespace SessionMesh.Mesh;

/// <summary>
/// What every mesh service shares: the store, the clock, the limits and the wake-ups. Its members are internal:
/// the services are the mesh's surface, and nothing outside Core reaches the store through them.
/// </summary>
public sealed class MeshRuntime(IMeshStore store, TimeProvider time, MeshOptions options, IMeshSignals signals, KeyCache keys, LeaseTable leases, ILoggerFactory? loggerFactory = null)
{
    internal IMeshStore Store => store;

    /// <summary>The keys in memory, which authentication and the streams' key checks read instead of the store.</summary>
    internal KeyCache Keys => keys;

    /// <summary>The leases of open sessions, in memory; the store has them as of the last checkpoint.</summary>
    internal LeaseTable Leases => leases;

    internal TimeProvider Time => time;

    internal MeshOptions Options => options;

    internal IMeshSignals Signals => signals;

    internal ILogger Logger { get; } = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("SessionMesh.Mesh");

    /// <summary>The latest committed events, for watchers (with replicas, other replicas' too: <see cref="ReplicaSync"/>).</summary>
    internal RecentEvents Recent { get; } = ReplicaSync.Attach(new RecentEvents(options.RecentEvents, options.RecentEventsBytes), signals, store, keys, leases,
        (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("SessionMesh.Mesh"));

    /// <summary>Whether other replicas share the store (their signals cross processes).</summary>
    internal bool Replicated => signals is IReplicaSignals;

    /// <summary>
    /// How far behind the clock the expiry leader judges leases: with replicas, a renewal another replica received
    /// reaches the store at its next lease checkpoint, so the leader waits two checkpoint intervals (one, plus as long
    /// again for the write to queue and commit) past a lease's end before it acts on it. Zero on one server, whose
    /// table has every renewal.
    /// </summary>
    internal TimeSpan ExpiryMargin => Replicated ? 2 * options.LeaseCheckpointInterval : TimeSpan.Zero;

    /// <summary>
    /// How long a write nobody waits on (recording hand-outs, audit entries of refused calls) waits for another write's
    /// batch to ride in (<see cref="IMeshStore.BeginRidingWriteAsync"/>) before it commits alone.
    /// </summary>
    internal static readonly TimeSpan RidingPatience = TimeSpan.FromMilliseconds(20);

    /// <summary>Commands committed a moment ago, for the streams open on this server.</summary>
    // Replicas' commands never pass through this server's memory: with replicas, streams read theirs from the store.
    internal FreshCommands Fresh { get; } = new(enabled: options.StreamCommandsFromMemory && signals is not IReplicaSignals);

    // What each open write has appended and queued, published to Recent and Fresh when it commits.
    private static readonly ConditionalWeakTable<IMeshWriteTransaction, WriteEffects> s_effects = [];

    private sealed class WriteEffects
    {
        public List<MeshEventRecord> Events { get; } = [];

        public List<CommandRecord> Commands { get; } = [];

        public List<string> Wake { get; } = [];
    }

    /// <summary>The current time at the millisecond precision the stores keep, so a stored time reads back equal.</summary>
    internal DateTimeOffset Now()
    {
        var now = time.GetUtcNow();
        return now.AddTicks(-(now.Ticks % TimeSpan.TicksPerMillisecond));
    }

    /// <summary>
    /// Commits, applies the transaction's lease changes (sessions opened and ended) to the lease table, publishes the
    /// events the write appended to <see cref="Recent"/>, then wakes event watchers (when events were appended) and the
    /// given streams and waiters.
    /// </summary>
    internal async Task CommitAsync(IMeshWriteTransaction tx, long lastRevision, CancellationToken cancellationToken, params IEnumerable<string> notify)
    {
        await CommitQuietlyAsync(tx, cancellationToken);
        Notify(lastRevision, notify);
    }

    /// <summary>
    /// Commits and publishes the write's events, without the wake-ups: for a caller that must do something between the
    /// commit and <see cref="Notify"/> (a key written to the <see cref="KeyCache"/> before its streams check it).
    /// </summary>
    internal async Task CommitQuietlyAsync(IMeshWriteTransaction tx, CancellationToken cancellationToken)
    {
        // The call's audit entry commits with its first write, so a durable write always has its entry.
        var audit = MeshAudit.Current is { Written: false } draft ? draft : null;
        if (audit is not null)
        {
            await tx.AppendAuditAsync(audit.ToRecord(), cancellationToken);
        }
        await tx.CommitAsync(cancellationToken);
        audit?.MarkWritten();
        var leaseChanges = Leases.Committed(tx);
        if (Replicated)
        {
            // Other replicas re-read these leases: the leader must hold every open session, wherever it joined.
            foreach (var sessionId in leaseChanges)
            {
                signals.Notify(SignalKeys.Lease(sessionId));
            }
        }
        if (s_effects.TryGetValue(tx, out var effects))
        {
            s_effects.Remove(tx);
            Fresh.Post(effects.Commands);
            Recent.Publish(effects.Events);
            // Watchers of one cluster wake for their cluster only, so an idle watcher costs nothing per commit elsewhere.
            foreach (var cluster in effects.Events.Select(e => e.Cluster).Distinct(StringComparer.Ordinal))
            {
                signals.Notify(SignalKeys.RevisionOf(cluster));
            }
            foreach (var key in effects.Wake)
            {
                signals.Notify(key);
            }
        }
    }

    /// <summary>The wake-ups after a commit: event watchers when events were appended, and the given streams and waiters.</summary>
    internal void Notify(long lastRevision, params IEnumerable<string> notify)
    {
        if (lastRevision > 0)
        {
            signals.Notify(SignalKeys.Revision);
        }
        foreach (var key in notify)
        {
            signals.Notify(key);
        }
    }

    /// <summary>
    /// Appends an event whose data is <paramref name="data"/>, serialised with the shared JSON context, and remembers it
    /// for <see cref="RecentEvents"/> until the write commits.
    /// </summary>
    internal static async Task<long> AppendEventAsync<T>(IMeshWriteTransaction tx, string type, string cluster, DateTimeOffset at, string? agentId, string? sessionId, T data, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken)
    {
        // Parsed back without the default depth limit: the data may wrap a stored payload of any depth. The bytes are
        // the thread's buffer, read before anything is awaited; the clone owns its own copy.
        using var document = JsonDocument.Parse(ThreadJson.Serialize(data, typeInfo), RawJsonElementConverter.StoredDocumentOptions);
        var element = document.RootElement.Clone();
        var revision = await tx.AppendEventAsync(cluster, type, at, agentId, sessionId, element, cancellationToken);
        s_effects.GetOrCreateValue(tx).Events.Add(new MeshEventRecord(revision, cluster, type, at, agentId, sessionId, element));
        return revision;
    }

    /// <summary>
    /// Wakes the waiters on <paramref name="key"/> once the write commits: for a change made deep in a write whose
    /// committer does not know of it (a lock released because its session ended).
    /// </summary>
    internal static void WakeOnCommit(IMeshWriteTransaction tx, string key) => s_effects.GetOrCreateValue(tx).Wake.Add(key);

    /// <summary>Queues a command in the write, and hands it to the streams open on this server once the write commits.</summary>
    internal static async Task InsertCommandAsync(IMeshWriteTransaction tx, CommandRecord command, CancellationToken cancellationToken)
    {
        await tx.InsertCommandAsync(command, cancellationToken);
        s_effects.GetOrCreateValue(tx).Commands.Add(command);
    }

    /// <summary>
    /// Waits for <paramref name="signal"/>, until <paramref name="timeout"/> passes on the mesh's clock, or until
    /// <paramref name="cancellationToken"/> fires — without throwing; callers check the token. For one-off waits; a
    /// long-lived stream waits through its <see cref="StreamWaiter"/>.
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
