using Microsoft.Extensions.Logging;
using SessionMesh.Model;
using SessionMesh.Security;
using SessionMesh.Store;

namespace SessionMesh.Mesh;

/// <summary>
/// Keeps a replica's memory in step with what the other replicas sharing its store commit, from their notifications
/// (<see cref="IReplicaSignals"/>): their events are read from the store into <see cref="RecentEvents"/> (until then,
/// watchers read the store), a key they changed is dropped from the <see cref="KeyCache"/> (its next use reads it),
/// and a lease they opened or ended is re-read into the <see cref="LeaseTable"/>, so the expiry leader holds every
/// open session wherever it joined. After a break in the link, all of it is read again.
/// </summary>
internal sealed class ReplicaSync
{
    private const int Page = 500;
    private static readonly string s_revisionPrefix = SignalKeys.RevisionOf("");
    private static readonly string s_keyPrefix = SignalKeys.Key("");
    private static readonly string s_leasePrefix = SignalKeys.Lease("");

    private readonly RecentEvents _recent;
    private readonly IReplicaSignals _signals;
    private readonly IMeshStore _store;
    private readonly KeyCache _keys;
    private readonly LeaseTable _leases;
    private readonly ILogger _logger;
    private int _catchingUp;
    private int _again;

    private ReplicaSync(RecentEvents recent, IReplicaSignals signals, IMeshStore store, KeyCache keys, LeaseTable leases, ILogger logger)
    {
        _recent = recent;
        _signals = signals;
        _store = store;
        _keys = keys;
        _leases = leases;
        _logger = logger;
    }

    /// <summary>Follows the other replicas when <paramref name="signals"/> crosses replicas; returns <paramref name="recent"/>.</summary>
    public static RecentEvents Attach(RecentEvents recent, IMeshSignals signals, IMeshStore store, KeyCache keys, LeaseTable leases, ILogger logger)
    {
        if (signals is IReplicaSignals replicas)
        {
            var sync = new ReplicaSync(recent, replicas, store, keys, leases, logger);
            replicas.NotifiedElsewhere += sync.OnNotifiedElsewhere;
            replicas.Resynchronised += sync.OnResynchronised;
        }
        return recent;
    }

    private void OnNotifiedElsewhere(string key)
    {
        if (key == SignalKeys.Revision || key.StartsWith(s_revisionPrefix, StringComparison.Ordinal))
        {
            CatchUpEvents();
        }
        else if (key.StartsWith(s_keyPrefix, StringComparison.Ordinal))
        {
            _keys.Invalidate(key[s_keyPrefix.Length..]);
        }
        else if (key.StartsWith(s_leasePrefix, StringComparison.Ordinal))
        {
            var sessionId = key[s_leasePrefix.Length..];
            _ = Task.Run(() => RereadLeaseAsync(sessionId));
        }
    }

    private void OnResynchronised()
    {
        CatchUpEvents();
        _keys.InvalidateAll();
        _ = RereadOpenLeasesAsync();
    }

    /// <summary>Marks memory behind at once (so no watcher is answered from it), then reads the store, one reader at a time.</summary>
    private void CatchUpEvents()
    {
        _recent.Heard();
        Volatile.Write(ref _again, 1);
        if (Interlocked.CompareExchange(ref _catchingUp, 1, 0) == 0)
        {
            // On the pool, not on the thread that hands out notifications: the keys after this one (a steered agent's,
            // say) wake their waiters without waiting for the read to be sent.
            _ = Task.Run(CatchUpEventsAsync);
        }
    }

    private async Task CatchUpEventsAsync()
    {
        try
        {
            while (Interlocked.Exchange(ref _again, 0) == 1)
            {
                // Everything heard of before this read is in the store already (notifications follow commits).
                var heard = _recent.Heard();
                if (_recent.Contiguous is null)
                {
                    _recent.StartAt(await _store.GetLatestRevisionAsync(CancellationToken.None));
                }
                while (true)
                {
                    var events = await _store.ListEventsAsync(null, _recent.Contiguous ?? 0, Page, CancellationToken.None);
                    _recent.Publish(events);
                    if (events.Count < Page)
                    {
                        break;
                    }
                }
                _recent.CaughtUp(heard);
            }
        }
        catch (Exception ex)
        {
            // Memory stays behind (watchers read the store); the next notification or resynchronisation tries again.
            MeshLog.ReplicaCatchUpFailed(_logger, ex);
        }
        finally
        {
            Volatile.Write(ref _catchingUp, 0);
            if (Volatile.Read(ref _again) == 1 && Interlocked.CompareExchange(ref _catchingUp, 1, 0) == 0)
            {
                _ = CatchUpEventsAsync();
            }
        }
    }

    private async Task RereadLeaseAsync(string sessionId)
    {
        try
        {
            var stored = await _store.GetSessionAsync(sessionId, CancellationToken.None);
            Follow(sessionId, stored);
            if (stored is { IsOpen: false })
            {
                // The agent's stream here may have woken on the same notifications before this read landed, and found the
                // session still open in memory: it looks again now. The other replicas heard of the change already.
                _signals.Release(SignalKeys.Agent(stored.Cluster, stored.AgentId));
            }
        }
        catch (Exception ex)
        {
            MeshLog.ReplicaCatchUpFailed(_logger, ex);
        }
    }

    /// <summary>
    /// Every open session of the store into the table (the leader then sweeps it), a page per write; then each session
    /// the table held before that the store no longer lists as open is read on its own: one that ended during the break
    /// leaves the table and wakes its agent's stream here.
    /// </summary>
    private async Task RereadOpenLeasesAsync()
    {
        try
        {
            var held = _leases.SessionIds();
            var open = new HashSet<string>(StringComparer.Ordinal);
            string? after = null;
            while (true)
            {
                IReadOnlyList<SessionRecord> page;
                await using (var tx = await _store.BeginWriteAsync(CancellationToken.None))
                {
                    page = await tx.ListOpenSessionsAsync(after, Page, CancellationToken.None);
                }
                foreach (var session in page)
                {
                    Follow(session.SessionId, session);
                    open.Add(session.SessionId);
                }
                if (page.Count < Page)
                {
                    break;
                }
                after = page[^1].SessionId;
            }
            foreach (var sessionId in held.Where(id => !open.Contains(id)))
            {
                await RereadLeaseAsync(sessionId);
            }
        }
        catch (Exception ex)
        {
            MeshLog.ReplicaCatchUpFailed(_logger, ex);
        }
    }

    private void Follow(string sessionId, SessionRecord? stored)
    {
        if (stored is not { IsOpen: true })
        {
            _leases.Forget(sessionId);
        }
        else if (_leases.Find(sessionId) is { } held)
        {
            _leases.Refresh(held, stored);
        }
        else
        {
            _leases.Adopt(stored);
        }
    }
}
