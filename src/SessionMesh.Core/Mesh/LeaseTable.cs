using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using SessionMesh.Model;
using SessionMesh.Store;

namespace SessionMesh.Mesh;

/// <summary>
/// The leases of open sessions, in memory (etcd's lessor): expiry, last-seen, load, idleness and the stale flag.
/// A heartbeat renews a lease here, in place under the lease's own lock — no store write, no global lock — and the table
/// persists renewed leases in batches: one checkpoint per interval (in writes of at most 256 leases), and before any read that
/// filters or counts by lease fields in the store (<see cref="FlushAsync"/>), so such a read never lags.
/// </summary>
/// <remarks>
/// What a crash can lose: renewals acknowledged since the last checkpoint (at most one
/// <see cref="MeshOptions.LeaseCheckpointInterval"/>) — their <c>last_seen</c>, <c>load</c> and idleness, and the
/// <c>expires_at</c> they moved. It cannot end a session early: at start the leader extends every open lease to at
/// least start + TTL before it loads the table (the TTL is a lower bound), and an acknowledged heartbeat only ever
/// promised now + TTL, which that start-up lease covers since the restart comes after the heartbeat. Joins, ends and
/// the events of stale and expired sessions are written in their own transactions, durable before they are
/// acknowledged, and the table follows them only after they commit.
/// Budget usage is charged here on one server; with replicas (<paramref name="budgetsInStore"/>) it is charged in the
/// store, the table keeps a copy for views (<see cref="TakeBudget"/>) and its checkpoints leave the stored usage alone.
/// </remarks>
public sealed class LeaseTable(IMeshStore store, bool budgetsInStore = false) : IDisposable
{
    private readonly ConcurrentDictionary<string, Lease> _leases = new(StringComparer.Ordinal);
    // The sweep's two questions, answered without walking every lease: which have lapsed, which may have stalled.
    private readonly LeaseExpiryIndex _byExpiry = new();
    private readonly ConcurrentDictionary<string, Lease> _stallWatched = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<Lease> _dirty = new();
    private readonly SemaphoreSlim _checkpointLock = new(1, 1);
    // Lease changes a write transaction makes, applied when (and only if) it commits.
    private readonly ConditionalWeakTable<IMeshWriteTransaction, List<(string SessionId, SessionRecord? Opened)>> _pending = [];
    private long _changes;

    /// <summary>How many leases one checkpoint write holds at most.</summary>
    private const int CheckpointChunk = 256;
    private long _persisted;

    /// <summary>How many open sessions the table holds.</summary>
    public int Count => _leases.Count;

    /// <summary>Entries in the expiry index (held leases and ended ones not yet dropped).</summary>
    internal int ExpiryEntries => _byExpiry.Count;

    /// <summary>True when renewals are waiting for a checkpoint.</summary>
    public bool HasUnpersistedChanges => Interlocked.Read(ref _changes) > Interlocked.Read(ref _persisted);

    /// <summary>
    /// The checkpoint: writes the leases changed since the last one in one store transaction, so every renewal
    /// acknowledged before the call is in the store. Run every checkpoint interval, at shutdown, and before a read
    /// that filters, orders or counts by lease fields in SQL. Concurrent callers share one write; with nothing to
    /// write it is free.
    /// </summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        var target = Interlocked.Read(ref _changes);
        if (Interlocked.Read(ref _persisted) >= target)
        {
            return;
        }
        await _checkpointLock.WaitAsync(cancellationToken);
        try
        {
            // A flush that ran while this caller waited may already have written what it needs.
            if (Interlocked.Read(ref _persisted) < target)
            {
                await WriteDirtyAsync(cancellationToken);
            }
        }
        finally
        {
            _checkpointLock.Release();
        }
    }

    /// <summary>Disposed with the container, after the hosted services (and their last checkpoint) have stopped.</summary>
    public void Dispose() => _checkpointLock.Dispose();

    /// <summary>The lease of an open session, or null when the table does not hold it.</summary>
    internal Lease? Find(string sessionId) => _leases.GetValueOrDefault(sessionId);

    /// <summary>The ids of the sessions the table holds now.</summary>
    internal List<string> SessionIds() => [.. _leases.Keys];

    /// <summary>
    /// Adopts an open session read from the store that the table does not hold (a server that did not load it, as a
    /// follower). Returns the lease the table holds for it afterwards.
    /// </summary>
    internal Lease Adopt(SessionRecord session)
    {
        while (true)
        {
            if (_leases.TryGetValue(session.SessionId, out var held))
            {
                return held;
            }
            var lease = new Lease(session);
            if (_leases.TryAdd(session.SessionId, lease))
            {
                Indexed(lease);
                return lease;
            }
        }
    }

    /// <summary>
    /// Renews a lease at <paramref name="now"/>: expires_at = now + TTL, last_seen = now, load and idleness when
    /// given, and the reported progress when given. Null when the grace has passed (the session must be expired
    /// instead). Never moves a lease back. <paramref name="progressBefore"/> is the progress the renewal replaced.
    /// </summary>
    internal SessionRecord? TryRenew(Lease lease, DateTimeOffset now, double? load, bool? idle, AgentProgress? progress, out AgentProgress? progressBefore)
    {
        // Most renewals move the lease fields only: in place, no new record kept (see Lease). Progress stays as it was.
        if (progress is null && TryRenewInPlace(lease, now, load, idle, out var plain))
        {
            var renewed = plain.ToRecord();
            progressBefore = renewed.Progress;
            return renewed;
        }
        while (true)
        {
            var current = lease.Record;
            progressBefore = current.Progress;
            if (now > current.GraceEndsAt)
            {
                return null;
            }
            var expires = now.AddSeconds(current.Ttl);
            var reported = current.Progress;
            if (progress is not null)
            {
                reported = progress.Over(current.Progress, out var decreased) ?? throw ProgressDecreased(decreased!, current.Progress!);
            }
            var next = current with
            {
                LastSeen = now > current.LastSeen ? now : current.LastSeen,
                ExpiresAt = expires > current.ExpiresAt ? expires : current.ExpiresAt,
                Load = load ?? current.Load,
                Idle = idle ?? current.Idle,
                StaleNotified = false,
                Progress = reported,
                ProgressedAt = reported is not null && reported.AdvancedFrom(current.Progress) ? now : current.ProgressedAt,
            };
            if (lease.TrySwap(current, next))
            {
                Touched(lease);
                return next;
            }
        }
    }

    /// <summary>
    /// A plain renewal of <paramref name="lease"/> (no progress reported), in place and without making a record: the
    /// heartbeat's path. False when it is not plain (past the grace, announced stale): <see cref="TryRenew"/> then.
    /// </summary>
    internal bool TryRenewInPlace(Lease lease, DateTimeOffset now, double? load, bool? idle, out RenewedLease renewed)
    {
        if (!lease.TryRenewInPlace(now, load, idle, out renewed))
        {
            return false;
        }
        Touched(lease);
        return true;
    }

    private static MeshException ProgressDecreased(string field, AgentProgress current) => MeshException.Invalid(
        $"progress.{field}",
        $"'progress.{field}' is cumulative and cannot go down (it is {Current(field, current)}): report the total so far.");

    private static string Current(string field, AgentProgress current) => (field switch
    {
        "tokens" => current.Tokens?.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "tool_calls" => current.ToolCalls?.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "turns" => current.Turns?.ToString(System.Globalization.CultureInfo.InvariantCulture),
        _ => current.CostUsd?.ToString(System.Globalization.CultureInfo.InvariantCulture),
    }) ?? "unset";

    /// <summary>
    /// Marks a lease as notified stalled (<paramref name="stalled"/>) or progressing again, unless a renewal changed it
    /// first; true when this call marked it.
    /// </summary>
    internal bool TryMarkStall(Lease lease, SessionRecord seen, bool stalled) =>
        seen.StallNotified != stalled && TryMark(lease, seen, seen with { StallNotified = stalled });

    /// <summary>
    /// Open leases within their TTL whose stall state changed at <paramref name="now"/>: stalled and not yet announced,
    /// or announced and progressing (or idle) again.
    /// </summary>
    internal List<(Lease Lease, SessionRecord Record)> StallChanges(DateTimeOffset now) => StallWatched(record =>
        now <= record.ExpiresAt && (record.StatusAt(now) == SessionStatus.Stalled) != record.StallNotified);

    /// <summary>
    /// With replicas: the leases whose stall state may have changed at <paramref name="judged"/>, as far as this table can
    /// tell — stalled here, or announced stalled (another replica may have taken a report since). The store decides.
    /// </summary>
    internal List<(Lease Lease, SessionRecord Record)> StallCandidates(DateTimeOffset judged) => StallWatched(record =>
        judged <= record.ExpiresAt && (record.StallNotified || record.StatusAt(judged) == SessionStatus.Stalled));

    /// <summary>
    /// Takes the renewal and the progress of <paramref name="stored"/> when another replica wrote a later one, keeping
    /// what this table decided (stale and stall announcements, budget alerts); returns the lease as it stands.
    /// </summary>
    internal SessionRecord RefreshActivity(Lease lease, SessionRecord stored)
    {
        while (true)
        {
            var current = lease.Record;
            if (stored.LastSeen <= current.LastSeen && (stored.ProgressedAt ?? DateTimeOffset.MinValue) <= (current.ProgressedAt ?? DateTimeOffset.MinValue))
            {
                return current;
            }
            var next = current with
            {
                LastSeen = Later(stored.LastSeen, current.LastSeen),
                ExpiresAt = Later(stored.ExpiresAt, current.ExpiresAt),
                Load = stored.LastSeen > current.LastSeen ? stored.Load : current.Load,
                Idle = stored.LastSeen > current.LastSeen ? stored.Idle : current.Idle,
                Progress = stored.ProgressedAt > current.ProgressedAt || current.ProgressedAt is null ? stored.Progress ?? current.Progress : current.Progress,
                ProgressedAt = stored.ProgressedAt > current.ProgressedAt || current.ProgressedAt is null ? stored.ProgressedAt ?? current.ProgressedAt : current.ProgressedAt,
            };
            if (lease.TrySwap(current, next))
            {
                return next;
            }
        }
    }

    private static DateTimeOffset Later(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    /// <summary>
    /// Charges <paramref name="delta"/> to the budget of <paramref name="lease"/>'s session; the alert this charge raised
    /// (<c>warned</c> on crossing <paramref name="warnAt"/> of a limit, <c>exceeded</c> on spending one), null when none.
    /// The swap makes exactly one charge the one that crosses, however many children report at once.
    /// </summary>
    internal string? Charge(Lease lease, AgentProgress delta, double warnAt, out SessionRecord charged)
    {
        while (true)
        {
            var current = lease.Record;
            if (current.Budget is null)
            {
                charged = current;
                return null;
            }
            var (next, alert) = BudgetCharge.Apply(current, delta, warnAt);
            if (lease.TrySwap(current, next))
            {
                Touched(lease);
                charged = next;
                return alert;
            }
        }
    }

    /// <summary>
    /// With replicas: takes the budget usage and alert a charge in the store left (<paramref name="stored"/>), unless the
    /// table already holds a later charge's; returns the lease as it stands. Not a change to checkpoint: the store has it.
    /// </summary>
    internal SessionRecord TakeBudget(Lease lease, SessionRecord stored)
    {
        while (true)
        {
            var current = lease.Record;
            var next = current with { BudgetUsed = LaterUsage(stored.BudgetUsed, current.BudgetUsed), BudgetAlert = LaterAlert(stored.BudgetAlert, current.BudgetAlert) };
            if (next == current || lease.TrySwap(current, next))
            {
                return lease.Record;
            }
        }
    }

    /// <summary>Marks a lapsed lease as notified stale, unless a renewal came first; true when this call marked it.</summary>
    internal bool TryMarkStale(Lease lease, SessionRecord seen) =>
        !seen.StaleNotified && TryMark(lease, seen, seen with { StaleNotified = true });

    /// <summary>Leases past their TTL at <paramref name="now"/> (stale, or due to expire), earliest first.</summary>
    internal List<(Lease Lease, SessionRecord Record)> Lapsed(DateTimeOffset now)
    {
        // Entries of leases ended long before their expiry wait in the index until it; past twice the fleet, they go.
        if (_byExpiry.Count > 2 * _leases.Count + 1024)
        {
            _byExpiry.Rebuild(_leases.Values);
        }
        var lapsed = _byExpiry.Lapsed(now, IsHeld).ConvertAll(static lease => (lease, lease.Record));
        lapsed.Sort(static (a, b) => a.Record.ExpiresAt != b.Record.ExpiresAt
            ? a.Record.ExpiresAt.CompareTo(b.Record.ExpiresAt)
            : string.CompareOrdinal(a.Record.SessionId, b.Record.SessionId));
        return lapsed;
    }

    /// <summary>A session as it stands: from memory while it is open here, else (ended, or not held) from the store.</summary>
    internal async ValueTask<SessionRecord?> CurrentAsync(string sessionId, CancellationToken cancellationToken) =>
        Find(sessionId)?.Record ?? OverlayOrNull(await store.GetSessionAsync(sessionId, cancellationToken));

    /// <summary>
    /// The record with the lease fields memory holds, when it is open and in the table and memory is not behind; else as
    /// given. Budget usage is the later of the two either way: with replicas the store's total may be ahead of this copy.
    /// </summary>
    internal SessionRecord Overlay(SessionRecord session)
    {
        // A stored lease ahead of memory is a renewal another replica took (one server's memory is never behind).
        if (!session.IsOpen || !_leases.TryGetValue(session.SessionId, out var lease) || lease.ExpiresAt < session.ExpiresAt)
        {
            return AtLeastCharged(session);
        }
        var overlaid = WithLease(session, lease.Record);
        return AtLeastCharged(session.Budget is null ? overlaid : overlaid with
        {
            BudgetUsed = LaterUsage(session.BudgetUsed, overlaid.BudgetUsed),
            BudgetAlert = LaterAlert(session.BudgetAlert, overlaid.BudgetAlert),
        });
    }

    // With replicas, what the store has charged of a session is the most it reported through any replica, written with
    // the report itself, while its progress reaches the store with that replica's next checkpoint: counters never show less.
    private static SessionRecord AtLeastCharged(SessionRecord session) =>
        session.Charged is { } charged && charged.AdvancedFrom(session.Progress)
            ? session with { Progress = session.Progress?.AtLeast(charged) ?? charged }
            : session;

    // Usage only grows and alerts only escalate, so of two copies of one budget's usage the later is the higher:
    // counter by counter, warned over none, exceeded over warned. Kept as is when it already is the later one.
    private static AgentProgress? LaterUsage(AgentProgress? a, AgentProgress? b) =>
        a is null ? b : b is null ? a : a.AdvancedFrom(b) ? (b.AdvancedFrom(a) ? a.Highest(b) : a) : b;

    private static string? LaterAlert(string? a, string? b) => a == "exceeded" || b is null ? a ?? b : b == "exceeded" || a is null ? b : a;

    /// <summary><see cref="Overlay(SessionRecord)"/> of a record that may be missing.</summary>
    internal SessionRecord? OverlayOrNull(SessionRecord? session) => session is null ? null : Overlay(session);

    /// <summary><see cref="Overlay(SessionRecord)"/> of each record.</summary>
    internal List<SessionRecord> Overlay(IEnumerable<SessionRecord> sessions) => sessions.Select(Overlay).ToList();

    /// <summary>Fills the table with the open sessions of the store (after the leader extended them), replacing what it held.</summary>
    internal void Load(IEnumerable<SessionRecord> openSessions)
    {
        _leases.Clear();
        _stallWatched.Clear();
        foreach (var session in openSessions)
        {
            var lease = new Lease(session);
            _leases[session.SessionId] = lease;
            WatchStalls(lease);
        }
        _byExpiry.Rebuild(_leases.Values);
    }

    /// <summary>Adds the lease of a session <paramref name="tx"/> opens, once it commits.</summary>
    internal void OpenOnCommit(IMeshWriteTransaction tx, SessionRecord session) => _pending.GetOrCreateValue(tx).Add((session.SessionId, session));

    /// <summary>Drops the lease of a session <paramref name="tx"/> ends, once it commits.</summary>
    internal void EndOnCommit(IMeshWriteTransaction tx, string sessionId) => _pending.GetOrCreateValue(tx).Add((sessionId, null));

    /// <summary>Drops a lease at once: its session was found ended in the store.</summary>
    internal void Forget(string sessionId)
    {
        _leases.TryRemove(sessionId, out _);
        _stallWatched.TryRemove(sessionId, out _);
    }

    /// <summary>Applies the lease changes of <paramref name="tx"/>, which has just committed; returns the sessions opened or ended.</summary>
    internal IReadOnlyList<string> Committed(IMeshWriteTransaction tx)
    {
        if (!_pending.TryGetValue(tx, out var changes))
        {
            return [];
        }
        _pending.Remove(tx);
        var changed = new List<string>(changes.Count);
        foreach (var (sessionId, opened) in changes)
        {
            changed.Add(sessionId);
            if (opened is null)
            {
                Forget(sessionId);
            }
            else
            {
                var lease = new Lease(opened);
                _leases[sessionId] = lease;
                Indexed(lease);
            }
        }
        return changed;
    }

    /// <summary>
    /// Takes the lease fields of <paramref name="stored"/> when they are newer than the table's (a renewal another
    /// replica received and checkpointed); returns the lease's record afterwards.
    /// </summary>
    internal SessionRecord Refresh(Lease lease, SessionRecord stored)
    {
        while (true)
        {
            var current = lease.Record;
            if (stored.ExpiresAt <= current.ExpiresAt && stored.LastSeen <= current.LastSeen)
            {
                return current;
            }
            var next = WithLease(current, stored);
            if (lease.TrySwap(current, next))
            {
                return next;
            }
        }
    }

    /// <summary>The leases with a stall threshold whose record matches, with the record as read.</summary>
    private List<(Lease Lease, SessionRecord Record)> StallWatched(Func<SessionRecord, bool> match)
    {
        // Enumerating the dictionary itself takes no lock and copies nothing (its Values property copies every lease).
        var matching = new List<(Lease Lease, SessionRecord Record)>();
        foreach (var (sessionId, lease) in _stallWatched)
        {
            if (!IsHeld(lease))
            {
                // Replaced or ended while it was being taken in: not the table's lease any more.
                _stallWatched.TryRemove(new KeyValuePair<string, Lease>(sessionId, lease));
                continue;
            }
            var record = lease.Record;
            if (match(record))
            {
                matching.Add((lease, record));
            }
        }
        return matching;
    }

    /// <summary>True while <paramref name="lease"/> is the table's lease of its session.</summary>
    private bool IsHeld(Lease lease) => _leases.TryGetValue(lease.Base.SessionId, out var held) && ReferenceEquals(held, lease);

    /// <summary>Files a lease the table has just taken in where the sweep looks.</summary>
    private void Indexed(Lease lease)
    {
        _byExpiry.Add(lease);
        WatchStalls(lease);
    }

    // Only leases with a stall threshold can stall; the threshold is the join's and stays with the lease.
    private void WatchStalls(Lease lease)
    {
        if (lease.Base.StallAfter is not null)
        {
            _stallWatched[lease.Base.SessionId] = lease;
        }
        else
        {
            _stallWatched.TryRemove(lease.Base.SessionId, out _);
        }
    }

    /// <summary>Swaps in a flag change unless a renewal came first, and queues the lease for the checkpoint.</summary>
    private bool TryMark(Lease lease, SessionRecord seen, SessionRecord marked)
    {
        if (!lease.TrySwap(seen, marked))
        {
            return false;
        }
        Touched(lease);
        return true;
    }

    /// <summary>Overlays the lease fields of <paramref name="lease"/> on a stored record.</summary>
    private static SessionRecord WithLease(SessionRecord stored, SessionRecord lease) => stored with
    {
        LastSeen = lease.LastSeen,
        ExpiresAt = lease.ExpiresAt,
        Load = lease.Load,
        Idle = lease.Idle,
        StaleNotified = lease.StaleNotified,
        Progress = lease.Progress,
        ProgressedAt = lease.ProgressedAt,
        StallNotified = lease.StallNotified,
        BudgetUsed = lease.BudgetUsed,
        BudgetAlert = lease.BudgetAlert,
    };

    // The order matters: the record is swapped, then the lease queued, then the change counted, so a flush that
    // read the count after this change finds the lease queued (or still flagged, with this record to read).
    private void Touched(Lease lease)
    {
        if (lease.MarkDirty())
        {
            _dirty.Enqueue(lease);
        }
        Interlocked.Increment(ref _changes);
    }

    /// <summary>One checkpoint; the caller holds the checkpoint lock.</summary>
    private async Task WriteDirtyAsync(CancellationToken cancellationToken)
    {
        var upTo = Interlocked.Read(ref _changes);
        var taken = new List<Lease>();
        var records = new List<SessionRecord>();
        while (_dirty.TryDequeue(out var lease))
        {
            lease.MarkClean();
            taken.Add(lease);
            records.Add(lease.Record);
        }
        // In chunks, each its own write: the store's other writers (a steer, a join) queue behind one chunk, never
        // behind thousands of leases. The chunks share the group commit's fsyncs.
        for (var start = 0; start < records.Count; start += CheckpointChunk)
        {
            var count = Math.Min(CheckpointChunk, records.Count - start);
            try
            {
                await using var tx = await store.BeginWriteAsync(cancellationToken);
                var chunk = records.GetRange(start, count);
                await (budgetsInStore ? tx.UpdateLeasesExceptBudgetsAsync(chunk, cancellationToken) : tx.UpdateLeasesAsync(chunk, cancellationToken));
                await tx.CommitAsync(cancellationToken);
            }
            catch
            {
                foreach (var lease in taken.Skip(start).Where(l => l.MarkDirty()))
                {
                    _dirty.Enqueue(lease);
                }
                throw;
            }
        }
        Interlocked.Exchange(ref _persisted, Math.Max(upTo, Interlocked.Read(ref _persisted)));
    }
}
