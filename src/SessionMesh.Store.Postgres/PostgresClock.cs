namespace SessionMesh.Store.Postgres;

/// <summary>
/// The database's clock, as every replica on PostgreSQL tells time: the local clock plus the offset last measured
/// against the server (<c>clock_timestamp()</c>, halfway through the round trip). Leases are stamped and judged on
/// one clock however the replicas' own clocks drift. The offset is measured by the lease leader gate on every sweep
/// tick (<see cref="PostgresLeaseLeader"/>); until the first measurement it is zero.
/// </summary>
public sealed class PostgresClock : TimeProvider
{
    // Smaller changes are noise of the round trip: keeping the offset steady keeps the clock from stepping back and forth.
    private static readonly TimeSpan s_jitter = TimeSpan.FromMilliseconds(5);
    private long _offsetTicks;

    /// <summary>How far the database's clock is ahead of this machine's.</summary>
    public TimeSpan Offset => TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));

    /// <inheritdoc />
    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + Offset;

    /// <summary>Takes a measurement: the database said <paramref name="database"/> between <paramref name="sent"/> and <paramref name="received"/> (local times).</summary>
    internal void Measured(DateTimeOffset sent, DateTimeOffset database, DateTimeOffset received)
    {
        var offset = database - (sent + (received - sent) / 2);
        if ((offset - Offset).Duration() > s_jitter)
        {
            Interlocked.Exchange(ref _offsetTicks, offset.Ticks);
        }
    }
}
