using SessionMesh.Contracts;
using SessionMesh.Model;
using SessionMesh.Security;

namespace SessionMesh.Mesh;

public sealed partial class MeshService
{
    /// <summary>
    /// Where an event watch starts: after <paramref name="since"/> when given (410 <c>revision_compacted</c> when
    /// history before it is gone), else after the latest revision, so only new events follow.
    /// </summary>
    public async Task<long> StartWatchAsync(MeshCaller caller, long? since, CancellationToken cancellationToken)
    {
        caller.Require(MeshScopes.Read);
        if (since is null)
        {
            return await store.GetLatestRevisionAsync(cancellationToken);
        }
        if (since < 0)
        {
            throw MeshException.Invalid("since", "'since' must be a revision (0 or more).");
        }
        var oldest = await store.GetOldestRevisionAsync(cancellationToken);
        var latest = await store.GetLatestRevisionAsync(cancellationToken);
        var firstRetained = oldest ?? latest + 1;
        if (since < firstRetained - 1)
        {
            throw MeshException.Gone("revision_compacted", $"Revision {since} is older than the retained history (oldest {firstRetained}); list the current state again, then watch from revision {latest}.");
        }
        return since.Value;
    }

    /// <summary>The events a caller may see after <paramref name="afterRevision"/>, oldest first.</summary>
    public async Task<IReadOnlyList<EventView>> ListEventsAsync(MeshCaller caller, string? cluster, long afterRevision, int limit, CancellationToken cancellationToken)
    {
        var resolved = caller.IsAdmin && string.IsNullOrEmpty(cluster) ? null : caller.ResolveCluster(cluster);
        var events = await store.ListEventsAsync(resolved, afterRevision, limit, cancellationToken);
        return events.Select(ToView).ToList();
    }

    /// <summary>Drops events beyond the configured retention; returns how many.</summary>
    public async Task<int> CompactEventsAsync(CancellationToken cancellationToken)
    {
        var latest = await store.GetLatestRevisionAsync(cancellationToken);
        var oldest = await store.GetOldestRevisionAsync(cancellationToken);
        var through = latest - options.EventRetention;
        if (oldest is null || through < oldest)
        {
            return 0;
        }
        await using var tx = await store.BeginWriteAsync(cancellationToken);
        var removed = await tx.CompactEventsAsync(through, cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return removed;
    }

    private static EventView ToView(MeshEventRecord e) => new()
    {
        Revision = e.Revision,
        Type = e.Type,
        Cluster = e.Cluster,
        At = e.At,
        AgentId = e.AgentId,
        SessionId = e.SessionId,
        Data = e.Data,
    };
}
