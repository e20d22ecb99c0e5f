using SessionMesh.Model;
using SessionMesh.Store;

namespace SessionMesh.Mesh;

/// <summary>
/// The mesh's housekeeping, run by the leader only (<see cref="ILeaseLeader"/>): on gaining the lead, every open
/// lease is extended by its TTL (Consul's rule, so downtime never mass-expires a fleet) and the lease table is loaded
/// from the store; then, each tick, lapsed leases (read from the table, not the store) turn stale and expire, stalled sessions are
/// announced and acted on, due
/// commands expire, kills past their grace end sessions, max_runtime starts kills, locks past their TTL are released, and, every retention interval,
/// events and completed commands past retention are deleted and the store shrinks back.
/// </summary>
public sealed class MeshMaintenance(MeshRuntime mesh, ILeaseLeader leader, SessionService sessions, CommandService commands, LockService locks)
{
    private const int Batch = 500;
    private bool _leading;
    private DateTimeOffset? _lastRetention;

    /// <summary>How often <see cref="RunOnceAsync"/> should run.</summary>
    public TimeSpan Interval => mesh.Options.SweepInterval;

    /// <summary>How often <see cref="CheckpointLeasesAsync"/> should run.</summary>
    public TimeSpan CheckpointInterval => mesh.Options.LeaseCheckpointInterval;

    /// <summary>
    /// Writes the leases renewed in memory since the last checkpoint to the store, in one transaction, after the
    /// deliveries queued for recording now (so the last checkpoint of a clean stop leaves no command to hand out
    /// again). Runs on every server, which also drops the keys that ended a while ago (<see cref="ForgetEndedKeys"/>).
    /// </summary>
    public async Task CheckpointLeasesAsync(CancellationToken cancellationToken)
    {
        await commands.DrainDeliveriesAsync().WaitAsync(cancellationToken);
        await mesh.Leases.FlushAsync(cancellationToken);
        ForgetEndedKeys();
    }

    /// <summary>How long a key that ended stays in memory (its requests are refused from memory meanwhile).</summary>
    internal static readonly TimeSpan EndedKeyMemory = TimeSpan.FromMinutes(10);

    private DateTimeOffset _nextKeyForget;

    /// <summary>
    /// Every server, once a minute: drops the keys that ended a while ago from its key cache, and the signals its
    /// streams waited on for their revocation (those streams ended when the key did).
    /// </summary>
    private void ForgetEndedKeys()
    {
        var now = mesh.Time.GetUtcNow();
        if (now < _nextKeyForget)
        {
            return;
        }
        _nextKeyForget = now + TimeSpan.FromMinutes(1);
        foreach (var keyId in mesh.Keys.ForgetEnded(now - EndedKeyMemory))
        {
            mesh.Signals.Release(SignalKeys.Key(keyId));
        }
    }

    /// <summary>
    /// Takes the lead when it is free, extending every open lease and loading the lease table when this server gains it. Returns whether this
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

    /// <summary>
    /// One tick: when this server leads, sweeps sessions and commands, and applies retention when it is due. Returns
    /// how many sessions and commands changed.
    /// </summary>
    public async Task<int> RunOnceAsync(CancellationToken cancellationToken)
    {
        if (!await LeadAsync(cancellationToken))
        {
            return 0;
        }
        var changed = await SweepSessionsAsync(cancellationToken) + await SweepStallsAsync(cancellationToken) + await commands.SweepAsync(cancellationToken);
        changed += await locks.SweepAsync(cancellationToken);
        var now = mesh.Time.GetUtcNow();
        if (_lastRetention is not { } last || now - last >= mesh.Options.RetentionInterval)
        {
            _lastRetention = now;
            await ApplyRetentionAsync(cancellationToken);
        }
        return changed;
    }

    /// <summary>
    /// Deletes the events and completed commands past retention (<see cref="MeshOptions.EventRetention"/> and the
    /// other retention settings) and shrinks the store back; pending commands are never deleted.
    /// </summary>
    public async Task<RetentionResult> ApplyRetentionAsync(CancellationToken cancellationToken)
    {
        var options = mesh.Options;
        var policy = new RetentionPolicy(mesh.Now(), options.EventRetention, options.EventRetentionAge, options.EventRetentionBytes,
            options.CommandRetentionAge, options.CommandRetentionBytes);
        var result = await mesh.Store.ApplyRetentionAsync(policy, cancellationToken);
        if (result.EventsDeleted > 0 || result.CommandsDeleted > 0)
        {
            MeshLog.Retained(mesh.Logger, result.EventsDeleted, result.ThroughRevision, result.CommandsDeleted, result.BytesBefore, result.BytesAfter);
        }
        return result;
    }

    /// <summary>
    /// Ends every lease past its grace as <c>expired</c> and marks newly stale ones, with their events, in batches;
    /// the lapsed leases come from the lease table. Returns how many sessions changed.
    /// </summary>
    internal async Task<int> SweepSessionsAsync(CancellationToken cancellationToken)
    {
        var now = mesh.Now();
        // With replicas, leases are judged as they stood a margin ago: a renewal made elsewhere may not be stored yet.
        var judged = now - mesh.ExpiryMargin;
        var changed = 0;
        var lapsedLeases = mesh.Leases.Lapsed(judged);
        var maxExpiries = Math.Max(MeshOptions.ExpiryBurstFloor, (int)(mesh.Options.ExpiryBurstFraction * mesh.Leases.Count));
        var expiring = lapsedLeases.Count(l => l.Record.StatusAt(judged) == SessionStatus.Expired);
        if (expiring > maxExpiries)
        {
            MeshLog.ExpiryBurstHeldBack(mesh.Logger, expiring, mesh.Leases.Count, maxExpiries);
        }
        var expiries = 0;
        foreach (var batch in lapsedLeases.Chunk(Batch))
        {
            await using var tx = await mesh.Store.BeginWriteAsync(cancellationToken);
            long revision = 0;
            var ended = new List<string>();
            foreach (var (lease, lapsed) in batch)
            {
                var seen = lapsed;
                if (mesh.Replicated)
                {
                    // Another replica may have renewed it (and checkpointed that) or ended it.
                    if (await tx.GetSessionAsync(seen.SessionId, cancellationToken) is not { IsOpen: true } current)
                    {
                        mesh.Leases.Forget(seen.SessionId);
                        continue;
                    }
                    seen = mesh.Leases.Refresh(lease, current);
                    if (seen.ExpiresAt >= judged)
                    {
                        continue;
                    }
                }
                if (seen.StatusAt(judged) != SessionStatus.Expired)
                {
                    // Within the grace: a renewal may still come, and then no stale event is sent.
                    if (await sessions.MarkStaleAsync(tx, lease, seen, now, cancellationToken) is { } staleRevision)
                    {
                        revision = staleRevision;
                        changed++;
                    }
                    continue;
                }
                if (++expiries > maxExpiries)
                {
                    // Held back: the next sweeps take the rest, a share at a time.
                    continue;
                }
                // Past the grace no renewal is taken any more, so the lease is final. The store has the rest of the record.
                if (await tx.GetSessionAsync(seen.SessionId, cancellationToken) is not { IsOpen: true } stored)
                {
                    mesh.Leases.Forget(seen.SessionId);
                    continue;
                }
                (_, revision) = await sessions.EndAsync(tx, stored, SessionStatus.Expired, "ttl elapsed", now, cancellationToken);
                ended.Add(SignalKeys.Agent(stored.Cluster, stored.AgentId));
                changed++;
            }
            await mesh.CommitAsync(tx, revision, cancellationToken, ended);
        }
        return changed;
    }

    /// <summary>
    /// Announces sessions that stalled (no progress for their <c>stall_after</c>) and acts on it as each asked (a message
    /// or a graceful kill), and announces those that progress again; from the lease table, in batches. Returns how many
    /// sessions changed.
    /// </summary>
    internal async Task<int> SweepStallsAsync(CancellationToken cancellationToken)
    {
        var now = mesh.Now();
        // With replicas, a report taken by another replica is in the store within the margin: the leader judges as of a
        // margin ago, from the store, so progress made elsewhere never reads as a stall here (nor a stall as lasting).
        var judged = now - mesh.ExpiryMargin;
        var candidates = mesh.Replicated ? mesh.Leases.StallCandidates(judged) : mesh.Leases.StallChanges(now);
        var changed = 0;
        foreach (var batch in candidates.Chunk(Batch))
        {
            await using var tx = await mesh.Store.BeginWriteAsync(cancellationToken);
            long revision = 0;
            var notify = new List<string>();
            foreach (var (lease, listed) in batch)
            {
                var seen = listed;
                if (mesh.Replicated)
                {
                    if (await tx.GetSessionAsync(seen.SessionId, cancellationToken) is not { IsOpen: true } stored)
                    {
                        continue;
                    }
                    seen = mesh.Leases.RefreshActivity(lease, stored);
                }
                var stalled = seen.StatusAt(judged) == SessionStatus.Stalled;
                if (await sessions.MarkStallAsync(tx, lease, seen, stalled, now, cancellationToken) is not { } marked)
                {
                    continue;
                }
                revision = marked;
                changed++;
                if (stalled && await commands.ActOnStallAsync(tx, seen, now, cancellationToken) is { } acted)
                {
                    revision = acted;
                    notify.Add(SignalKeys.Agent(seen.Cluster, seen.AgentId));
                }
            }
            await mesh.CommitAsync(tx, revision, cancellationToken, notify);
        }
        return changed;
    }

    /// <summary>
    /// Extends every open lease to at least now + TTL, then loads the open sessions into the lease table, in one
    /// transaction so nothing changes between the two. Renewals still in memory are written first.
    /// </summary>
    private async Task<int> ExtendOpenLeasesAsync(CancellationToken cancellationToken)
    {
        await mesh.Leases.FlushAsync(cancellationToken);
        await using var tx = await mesh.Store.BeginWriteAsync(cancellationToken);
        var count = await tx.ExtendOpenLeasesAsync(mesh.Now(), cancellationToken);
        var open = new List<SessionRecord>();
        while (true)
        {
            var page = await tx.ListOpenSessionsAsync(open.Count == 0 ? null : open[^1].SessionId, Batch, cancellationToken);
            open.AddRange(page);
            if (page.Count < Batch)
            {
                break;
            }
        }
        await tx.CommitAsync(cancellationToken);
        mesh.Leases.Load(open);
        return count;
    }
}
