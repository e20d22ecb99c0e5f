namespace SessionMesh.Mesh;

/// <summary>
/// Signals that cross replicas: what a store shared by several servers supplies (PostgreSQL's LISTEN/NOTIFY). Besides
/// waking this server's waiters on another replica's keys, it tells the mesh about them first, so the mesh can bring
/// its memory up to date: events another replica appended (<see cref="RecentEvents"/>), keys it changed
/// (<see cref="Security.KeyCache"/>), leases it opened or ended (<see cref="LeaseTable"/>).
/// </summary>
public interface IReplicaSignals : IMeshSignals
{
    /// <summary>Raised for each key another replica notified, before this server's waiters on it wake.</summary>
    event Action<string>? NotifiedElsewhere;

    /// <summary>
    /// Raised when the link to the other replicas came back after a break, before every waiter of this server wakes:
    /// notifications sent meanwhile may be lost, so whatever memory holds of other replicas' changes is read again.
    /// </summary>
    event Action? Resynchronised;

    /// <summary>
    /// Forgets that another replica holds a stream on <paramref name="key"/> (<see cref="IMeshSignals.HasListener"/>
    /// counts those too): a steer waited for that stream in vain, so the replica that held it is gone.
    /// </summary>
    void ForgetRemoteListeners(string key);
}
