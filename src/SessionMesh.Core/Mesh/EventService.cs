using System.Runtime.CompilerServices;
using SessionMesh.Contracts;
using SessionMesh.Model;
using SessionMesh.Security;

namespace SessionMesh.Mesh;

/// <summary>
/// The event history: every state change with a strictly increasing revision, read as a page or watched live.
/// Events about keys are shown only to keys with the <c>keys</c> scope.
/// </summary>
public sealed class EventService(MeshRuntime mesh)
{
    private static readonly TimeSpan s_pingAfter = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Checks the caller may read events of the cluster, and returns where a read starts: after <paramref name="since"/>
    /// when given (410 <c>revision_compacted</c> when history before it is gone), else after the latest revision.
    /// </summary>
    public async Task<long> StartAsync(MeshCaller caller, string? cluster, long? since, CancellationToken cancellationToken)
    {
        caller.Require(MeshScopes.Read);
        _ = ClusterOf(caller, cluster);
        if (since is null)
        {
            return await mesh.Store.GetLatestRevisionAsync(cancellationToken);
        }
        if (since < 0)
        {
            throw MeshException.Invalid("since", "'since' must be a revision (0 or more).");
        }
        var oldest = await mesh.Store.GetOldestRevisionAsync(cancellationToken);
        var latest = await mesh.Store.GetLatestRevisionAsync(cancellationToken);
        var firstRetained = oldest ?? latest + 1;
        if (since < firstRetained - 1)
        {
            throw MeshException.Gone("revision_compacted", $"Revision {since} is older than the retained history (oldest {firstRetained}); list the current state again, then watch from revision {latest}.");
        }
        return since.Value;
    }

    /// <summary>
    /// The events the caller may see after <paramref name="afterRevision"/>, oldest first: up to <paramref name="limit"/>
    /// and within the page byte budget; the next page starts after the last one's revision.
    /// </summary>
    public async Task<IReadOnlyList<EventView>> ListAsync(MeshCaller caller, string? cluster, long afterRevision, int limit, CancellationToken cancellationToken)
    {
        caller.Require(MeshScopes.Read);
        var (events, _, _) = await ReadAsync(caller, ClusterOf(caller, cluster), afterRevision, limit, cancellationToken);
        var kept = PageBudget.Fit(events, e => PageBudget.SizeOf(e, MeshJsonContext.Default.EventView), mesh.Options.MaxPageBytes);
        return kept == events.Count ? events : events.Take(kept).ToList();
    }

    /// <summary>
    /// The events after <paramref name="afterRevision"/>, then each new one as it is committed, with a ping at once
    /// when there is nothing to send yet and after each quiet spell; ends when the key that opened it is revoked or
    /// expires.
    /// </summary>
    public async IAsyncEnumerable<EventStreamFrame> WatchAsync(MeshCaller caller, string? cluster, long afterRevision, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        caller.Require(MeshScopes.Read);
        var resolved = ClusterOf(caller, cluster);
        var key = new KeyValidity(mesh, caller);
        var opened = false;
        using var waiter = new StreamWaiter(mesh.Time, cancellationToken);
        while (!cancellationToken.IsCancellationRequested)
        {
            waiter.WakeOn(mesh.Signals.Next(resolved is null ? SignalKeys.Revision : SignalKeys.RevisionOf(resolved)));
            waiter.WakeOn(key.Revoked());
            if (await key.CheckAsync(cancellationToken) is { } invalid)
            {
                yield return new EventStreamFrame.End(new WatchEnd { Code = invalid.Code, Reason = invalid.Reason });
                yield break;
            }
            var (batch, through, full) = await ReadAsync(caller, resolved, afterRevision, MeshLimits.DefaultPageSize, cancellationToken);
            foreach (var e in batch)
            {
                yield return new EventStreamFrame.Event(e);
            }
            afterRevision = through ?? afterRevision;
            if (full)
            {
                continue;
            }
            if (!opened && batch.Count == 0)
            {
                // A watch from "now" has nothing to send yet: a first ping gets the response under way, so the
                // watcher knows at once that it is connected.
                yield return new EventStreamFrame.Ping();
            }
            opened = true;
            // A quiet spell ends in a ping; a wake-up (a new revision, the key's revocation, the end) does not.
            if (!await waiter.WaitAsync(key.Until(s_pingAfter)) && key.Until(s_pingAfter) > TimeSpan.Zero)
            {
                yield return new EventStreamFrame.Ping();
            }
        }
    }

    /// <summary>An admin without a cluster reads every cluster (null); anyone else one cluster.</summary>
    private static string? ClusterOf(MeshCaller caller, string? cluster) =>
        caller.IsAdmin && string.IsNullOrEmpty(cluster) ? null : caller.ResolveCluster(cluster);

    /// <summary>
    /// One page of the log the caller may see, the last revision read (key events left out for a caller without the
    /// <c>keys</c> scope still move the cursor), and whether the page was full, so more may follow at once.
    /// </summary>
    private async Task<(IReadOnlyList<EventView> Events, long? Through, bool Full)> ReadAsync(MeshCaller caller, string? cluster, long afterRevision, int limit, CancellationToken cancellationToken)
    {
        var seesKeys = caller.Scopes.Covers(MeshScopes.Keys);
        bool Visible(MeshEventRecord e) => seesKeys || !e.Type.StartsWith("key.", StringComparison.Ordinal);
        if (mesh.Recent.TryRead(cluster, afterRevision, limit, Visible) is { } recent)
        {
            return (recent.Events.Select(MeshViews.Event).ToList(), recent.Through, recent.Full);
        }
        var rows = await mesh.Store.ListEventsAsync(cluster, afterRevision, limit, cancellationToken);
        var events = rows.Where(Visible).Select(MeshViews.Event).ToList();
        return (events, rows.Count > 0 ? rows[^1].Revision : null, rows.Count == limit);
    }
}
