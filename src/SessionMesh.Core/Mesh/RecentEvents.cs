using SessionMesh.Model;

namespace SessionMesh.Mesh;

/// <summary>
/// The latest events in memory, so watchers are fed without a store query per commit. Every event this server
/// commits is published here right after its commit (<see cref="MeshRuntime.CommitAsync"/>); the buffer knows the
/// range of revisions it holds without a gap, and a read outside that range (older history, or a moment where a
/// concurrent commit has not been published yet) is answered by the store instead.
/// </summary>
/// <remarks>
/// One server owns its store's event log. A store shared by several replicas must publish the other replicas'
/// events here from its notifications, or reads past the first foreign revision go to the store (correct, slower).
/// The events are held encoded (<see cref="EventArchive"/>), and the newest <see cref="HotEvents"/> as records too.
/// </remarks>
public sealed class RecentEvents(int capacity, long maxBytes = RecentEvents.DefaultMaxBytes)
{
    /// <summary>The default of <see cref="MaxBytes"/>: 64 MiB.</summary>
    public const long DefaultMaxBytes = 64L * 1024 * 1024;

    /// <summary>
    /// How many of the newest events are held as records as well: the ones the watchers a commit wakes read. Older ones
    /// are decoded when read, so the records die young instead of reaching the collector's older generations.
    /// </summary>
    internal const int HotEvents = 256;

    /// <summary>What an event weighs besides its encoded bytes: its slot, and its record while it is among the newest.</summary>
    private const int SlotBytes = 64;

    private readonly Lock _lock = new();
    private readonly EventRing _events = new();
    private readonly EventArchive _archive = new(maxBytes);
    // Revisions above _floor and up to _contiguous are all held; null until the first publish.
    private long? _floor;
    private long _contiguous;
    private long _bytes;
    // Replicas: how many times another replica's commit was heard of, and up to which of those memory has caught up.
    private long _heard;
    private long _caughtUp;

    /// <summary>How many events are held at most.</summary>
    public int Capacity { get; } = capacity > 0 ? capacity : throw new ArgumentOutOfRangeException(nameof(capacity));

    /// <summary>
    /// How many bytes of event data are held at most (at least the newest event is kept): events of large payloads
    /// leave memory sooner, and older reads go to the store.
    /// </summary>
    public long MaxBytes { get; } = maxBytes > 0 ? maxBytes : throw new ArgumentOutOfRangeException(nameof(maxBytes));

    /// <summary>The bytes of event data held now.</summary>
    public long Bytes
    {
        get
        {
            lock (_lock)
            {
                return _bytes;
            }
        }
    }

    /// <summary>Adds committed events (any order; each revision once).</summary>
    public void Publish(IReadOnlyList<MeshEventRecord> events)
    {
        if (events.Count == 0)
        {
            return;
        }
        lock (_lock)
        {
            if (_floor is null)
            {
                // Everything before this server's first commit is history the store answers for.
                _floor = events.Min(e => e.Revision) - 1;
                _contiguous = _floor.Value;
            }
            foreach (var e in events)
            {
                if (e.Revision <= _floor || Holds(e.Revision))
                {
                    continue;
                }
                var where = _archive.Append(e);
                _events.TryAdd(new HeldEvent(e.Revision, where, e));
                _bytes += where.Length + SlotBytes;
            }
            // Only the newest keep their records; inserts land at or near the end, so the cooled ones sit just below.
            for (var i = _events.Count - HotEvents - 1; i >= 0 && _events[i].Hot is not null; i--)
            {
                _events[i].Hot = null;
            }
            for (var i = _events.FirstAfter(_contiguous); i < _events.Count && _events[i].Revision == _contiguous + 1; i++)
            {
                _contiguous++;
            }
            while (_events.Count > Capacity || (_bytes > MaxBytes && _events.Count > 1))
            {
                var oldest = _events.RemoveOldest();
                _floor = oldest.Revision;
                _bytes -= oldest.Where.Length + SlotBytes;
                _archive.Release(oldest.Where);
            }
            if (_contiguous < _floor)
            {
                _contiguous = _floor.Value;
            }
        }
    }

    /// <summary>
    /// The events after <paramref name="afterRevision"/> of <paramref name="cluster"/> (null: every cluster) that pass
    /// <paramref name="visible"/>, up to <paramref name="limit"/>, when memory holds all of them; null when the store
    /// must answer. <c>Through</c> is the revision the read covered (the last event taken, or everything held when the
    /// page is not full), <c>Full</c> whether more may follow at once.
    /// </summary>
    public (IReadOnlyList<MeshEventRecord> Events, long Through, bool Full)? TryRead(string? cluster, long afterRevision, int limit, Func<MeshEventRecord, bool> visible)
    {
        lock (_lock)
        {
            var newest = _events.Count > 0 ? _events[_events.Count - 1].Revision : _contiguous;
            if (_floor is null || afterRevision < _floor || newest > _contiguous || _heard > _caughtUp)
            {
                // Older than what is held, or a commit is not published yet: the store knows.
                return null;
            }
            var taken = new List<MeshEventRecord>();
            var index = _events.FirstAfter(afterRevision);
            var through = Math.Max(afterRevision, _contiguous);
            for (; index < _events.Count; index++)
            {
                ref var held = ref _events[index];
                var e = held.Hot ?? EventArchive.Read(held.Revision, held.Where);
                if ((cluster is null || e.Cluster == cluster) && visible(e))
                {
                    taken.Add(e);
                    if (taken.Count == limit)
                    {
                        through = e.Revision;
                        return (taken, through, index + 1 < _events.Count);
                    }
                }
            }
            return (taken, through, false);
        }
    }

    /// <summary>
    /// Another replica appended events that memory does not hold yet: reads go to the store until
    /// <see cref="CaughtUp"/> is called with the returned number (or a later one).
    /// </summary>
    public long Heard()
    {
        lock (_lock)
        {
            return ++_heard;
        }
    }

    /// <summary>Everything heard of up to <paramref name="heard"/> (a <see cref="Heard"/> result) is published.</summary>
    public void CaughtUp(long heard)
    {
        lock (_lock)
        {
            _caughtUp = Math.Max(_caughtUp, heard);
        }
    }

    /// <summary>
    /// The revision memory holds every event up to (without a gap), from which a replica reads the store to catch up;
    /// null before anything was published (<see cref="StartAt"/> then sets where holding begins).
    /// </summary>
    public long? Contiguous
    {
        get
        {
            lock (_lock)
            {
                return _floor is null ? null : _contiguous;
            }
        }
    }

    /// <summary>Starts holding events after <paramref name="revision"/> when nothing was published yet (older ones the store answers).</summary>
    public void StartAt(long revision)
    {
        lock (_lock)
        {
            if (_floor is null)
            {
                _floor = revision;
                _contiguous = revision;
            }
        }
    }

    private bool Holds(long revision)
    {
        var index = _events.FirstAfter(revision);
        return index > 0 && _events[index - 1].Revision == revision;
    }
}
