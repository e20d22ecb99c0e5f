using SessionMesh.Model;

namespace SessionMesh.Mesh;

/// <summary>
/// One open session's lease in memory: an immutable record, swapped whole for any change, and on top of it the fields
/// a plain renewal moves (last seen, expiry, load, idleness), written in place. A renewal is the change made thousands
/// of times a second; as a new record stored in this long-lived lease, each one outlived the garbage collector's
/// youngest generation and dirtied the older one. Now it writes four fields, and a reader gets a record made on
/// demand that dies young. Every read and change takes the lease's own lock, so a reader always sees one consistent
/// lease.
/// </summary>
internal sealed class Lease(SessionRecord record)
{
    private SessionRecord _record = record;
    private bool _renewed;
    private long _lastSeenTicks;
    private long _expiresTicks;
    private double? _load;
    private bool _idle;
    private int _dirty;

    /// <summary>The lease as it stands: the stored session with the lease fields as memory knows them.</summary>
    public SessionRecord Record
    {
        get
        {
            lock (this)
            {
                return Current();
            }
        }
    }

    /// <summary>When the lease runs out, read without making a record.</summary>
    public DateTimeOffset ExpiresAt
    {
        get
        {
            lock (this)
            {
                return _renewed ? new DateTimeOffset(_expiresTicks, TimeSpan.Zero) : _record.ExpiresAt;
            }
        }
    }

    /// <summary>
    /// The record as of the last swap, without the renewals since: for the fields a renewal never changes (cluster,
    /// agent, TTL, stall threshold), read without making a record.
    /// </summary>
    public SessionRecord Base => Volatile.Read(ref _record);

    /// <summary>
    /// Replaces the lease by <paramref name="next"/> when it still stands as <paramref name="expected"/> (a record read
    /// from it); false when another change came first.
    /// </summary>
    public bool TrySwap(SessionRecord expected, SessionRecord next)
    {
        lock (this)
        {
            // A record made on demand is equal to the lease, not the same object: compared by value.
            if ((_renewed || !ReferenceEquals(expected, _record)) && expected != Current())
            {
                return false;
            }
            Volatile.Write(ref _record, next);
            _renewed = false;
            return true;
        }
    }

    /// <summary>
    /// A plain renewal, in place: last seen and expiry move forward (never back), load and idleness when given. False
    /// when it is not plain here (past the grace, announced stale: the caller swaps a record instead). Gives the lease
    /// as renewed without making a record.
    /// </summary>
    public bool TryRenewInPlace(DateTimeOffset now, double? load, bool? idle, out RenewedLease renewed)
    {
        lock (this)
        {
            var lastSeen = _renewed ? new DateTimeOffset(_lastSeenTicks, TimeSpan.Zero) : _record.LastSeen;
            var expiresAt = _renewed ? new DateTimeOffset(_expiresTicks, TimeSpan.Zero) : _record.ExpiresAt;
            if (now > expiresAt.AddSeconds(_record.Ttl) || _record.StaleNotified)
            {
                renewed = default;
                return false;
            }
            var expires = now.AddSeconds(_record.Ttl);
            _lastSeenTicks = (now > lastSeen ? now : lastSeen).UtcTicks;
            _expiresTicks = (expires > expiresAt ? expires : expiresAt).UtcTicks;
            _load = load ?? (_renewed ? _load : _record.Load);
            _idle = idle ?? (_renewed ? _idle : _record.Idle);
            _renewed = true;
            renewed = InPlace();
            return true;
        }
    }

    /// <summary>Flags the lease as changed since its last checkpoint; true when it was clean (so it must be queued).</summary>
    public bool MarkDirty() => Interlocked.Exchange(ref _dirty, 1) == 0;

    /// <summary>Clears the flag before the checkpoint reads the record, so a renewal after the read queues it again.</summary>
    public void MarkClean() => Volatile.Write(ref _dirty, 0);

    private SessionRecord Current() => !_renewed ? _record : InPlace().ToRecord();

    // Times in memory are UTC: the mesh's clock is read with GetUtcNow.
    private RenewedLease InPlace() => new(
        _record, new DateTimeOffset(_lastSeenTicks, TimeSpan.Zero), new DateTimeOffset(_expiresTicks, TimeSpan.Zero), _load, _idle);
}
