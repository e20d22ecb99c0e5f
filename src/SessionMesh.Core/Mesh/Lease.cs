using SessionMesh.Model;

namespace SessionMesh.Mesh;

/// <summary>
/// One open session's lease in memory. The record is immutable and swapped whole with a compare-and-swap, so a
/// renewal takes no lock and a reader always sees one consistent lease.
/// </summary>
internal sealed class Lease(SessionRecord record)
{
    private SessionRecord _record = record;
    private int _dirty;

    /// <summary>The lease as it stands: the stored session with the lease fields as memory knows them.</summary>
    public SessionRecord Record => Volatile.Read(ref _record);

    /// <summary>Replaces <paramref name="expected"/> by <paramref name="next"/>; false when another change came first.</summary>
    public bool TrySwap(SessionRecord expected, SessionRecord next) =>
        ReferenceEquals(Interlocked.CompareExchange(ref _record, next, expected), expected);

    /// <summary>Flags the lease as changed since its last checkpoint; true when it was clean (so it must be queued).</summary>
    public bool MarkDirty() => Interlocked.Exchange(ref _dirty, 1) == 0;

    /// <summary>Clears the flag before the checkpoint reads the record, so a renewal after the read queues it again.</summary>
    public void MarkClean() => Volatile.Write(ref _dirty, 0);
}
