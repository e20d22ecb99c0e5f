using SessionMesh.Model;
using SessionMesh.Store;

namespace SessionMesh.Mesh;

/// <summary>
/// The mesh's housekeeping, run by the leader only (<see cref="ILeaseLeader"/>): on gaining the lead, every open
/// lease is extended by its TTL (Consul's rule, so downtime never mass-expires a fleet); then, each tick, lapsed
/// sessions turn stale and expire, due commands expire, kills past their grace end sessions, max_runtime starts
/// kills, and events past retention are compacted.
/// </summary>
public sealed class MeshMaintenance(MeshRuntime mesh, ILeaseLeader leader, SessionService sessions, CommandService commands, EventService events)
{
    private const int Batch = 500;
    private bool _leading;

    /// <summary>How often <see cref="RunOnceAsync"/> should run.</summary>
    public TimeSpan Interval => mesh.Options.SweepInterval;

    /// <summary>
    /// Takes the lead when it is free, extending every open lease when this server gains it. Returns whether this
    /// server leads. Run once before a server takes requests, then by every tick.
    /// </summary>
    public async Task<bool> LeadAsync(CancellationToken cancellationToken)
    {
        var leading = await leader.TryLeadAsync(cancellationToken);
        if (leading && !_leading)
        {
            var extended = await ExtendOpenLeasesAsync(cancellationToken);
            MeshLog.GainedLead(mesh.Logger, extended);
        }
        else if (!leading && _leading)
        {
            MeshLog.LostLead(mesh.Logger);
        }
        _leading = leading;
        return leading;
    }

    /// <summary>One tick: when this server leads, sweeps sessions and commands and compacts events. Returns how many things changed.</summary>
    public async Task<int> RunOnceAsync(CancellationToken cancellationToken)
    {
        if (!await LeadAsync(cancellationToken))
        {
            return 0;
        }
        var changed = await SweepSessionsAsync(cancellationToken) + await commands.SweepAsync(cancellationToken);
        await events.CompactAsync(cancellationToken);
        return changed;
    }

    /// <summary>
    /// Ends every session past its grace as <c>expired</c> and marks newly stale ones, with their events, in
    /// batches that move past sessions already marked stale. Returns how many sessions changed.
    /// </summary>
    internal async Task<int> SweepSessionsAsync(CancellationToken cancellationToken)
    {
        var changed = 0;
        LapsedCursor? after = null;
        while (true)
        {
            var now = mesh.Now();
            await using var tx = await mesh.Store.BeginWriteAsync(cancellationToken);
            var lapsed = await tx.ListLapsedSessionsAsync(now, after, Batch, cancellationToken);
            long revision = 0;
            var ended = new List<string>();
            foreach (var session in lapsed)
            {
                var status = session.StatusAt(now);
                if (status == SessionStatus.Expired)
                {
                    (_, revision) = await sessions.EndAsync(tx, session, SessionStatus.Expired, "ttl elapsed", now, cancellationToken);
                    ended.Add(SignalKeys.Agent(session.Cluster, session.AgentId));
                    changed++;
                }
                else if (!session.StaleNotified)
                {
                    revision = await sessions.MarkStaleAsync(tx, session, now, cancellationToken);
                    changed++;
                }
            }
            await mesh.CommitAsync(tx, revision, cancellationToken, ended);
            if (lapsed.Count < Batch)
            {
                return changed;
            }
            after = new LapsedCursor(lapsed[^1].ExpiresAt, lapsed[^1].SessionId);
        }
    }

    private async Task<int> ExtendOpenLeasesAsync(CancellationToken cancellationToken)
    {
        await using var tx = await mesh.Store.BeginWriteAsync(cancellationToken);
        var count = await tx.ExtendOpenLeasesAsync(mesh.Now(), cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return count;
    }
}
