using SessionMesh.Model;

namespace SessionMesh.Mesh;

/// <summary>
/// Events in revision order in a circular buffer, for <see cref="RecentEvents"/>: appending a newer event and dropping
/// the oldest cost the same however many are held, and those are nearly every change (commits publish in revision
/// order, but for a racing commit placed a few slots from the end). A sorted list would move every held event to drop
/// the oldest, on each commit once full. Not thread-safe: its owner locks.
/// </summary>
internal sealed class EventRing
{
    private HeldEvent[] _slots = new HeldEvent[16];
    private int _head;

    public int Count { get; private set; }

    /// <summary>The event at <paramref name="index"/> in revision order (0 is the oldest held).</summary>
    public ref HeldEvent this[int index] => ref _slots[Slot(index)];

    /// <summary>Inserts <paramref name="e"/> in revision order; false, changing nothing, when its revision is held already.</summary>
    public bool TryAdd(in HeldEvent e)
    {
        var index = FirstAfter(e.Revision);
        if (index > 0 && this[index - 1].Revision == e.Revision)
        {
            return false;
        }
        if (Count == _slots.Length)
        {
            Grow();
        }
        for (var i = Count; i > index; i--)
        {
            _slots[Slot(i)] = _slots[Slot(i - 1)];
        }
        _slots[Slot(index)] = e;
        Count++;
        return true;
    }

    /// <summary>Drops the oldest event and returns it.</summary>
    public HeldEvent RemoveOldest()
    {
        var oldest = _slots[_head];
        _slots[_head] = default;
        _head = Slot(1);
        Count--;
        return oldest;
    }

    /// <summary>The index of the first held event with a revision above <paramref name="revision"/> (<see cref="Count"/> when none).</summary>
    public int FirstAfter(long revision)
    {
        int lo = 0, hi = Count;
        while (lo < hi)
        {
            var mid = (lo + hi) / 2;
            if (this[mid].Revision <= revision)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }
        return lo;
    }

    private int Slot(int index)
    {
        var slot = _head + index;
        return slot >= _slots.Length ? slot - _slots.Length : slot;
    }

    private void Grow()
    {
        var bigger = new HeldEvent[_slots.Length * 2];
        for (var i = 0; i < Count; i++)
        {
            bigger[i] = this[i];
        }
        _slots = bigger;
        _head = 0;
    }
}

/// <summary>
/// An event <see cref="RecentEvents"/> holds: its revision, where its bytes are, and, while it is among the newest, the
/// record itself, so the watchers a commit wakes read it without decoding.
/// </summary>
internal record struct HeldEvent(long Revision, EventArchive.Location Where, MeshEventRecord? Hot);
