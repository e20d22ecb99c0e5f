using SessionMesh.Model;

namespace SessionMesh.Mesh;

/// <summary>
/// A lease as a renewal in place left it: the record as of its last swap and the four fields a renewal moves, read under
/// the lease's lock. Nothing is allocated for it; a record is made only when one is asked for.
/// </summary>
internal readonly record struct RenewedLease(SessionRecord Base, DateTimeOffset LastSeen, DateTimeOffset ExpiresAt, double? Load, bool Idle)
{
    /// <summary>The lease as a record: the base with the renewed fields.</summary>
    public SessionRecord ToRecord() => Base with { LastSeen = LastSeen, ExpiresAt = ExpiresAt, Load = Load, Idle = Idle };

    /// <summary>The session's status at <paramref name="now"/>, judged from the renewed fields.</summary>
    public SessionStatus StatusAt(DateTimeOffset now) => Base.StatusAt(now, ExpiresAt, Idle);
}
