using SessionMesh.Mesh;
using SessionMesh.Model;

namespace SessionMesh.Tests.Mesh;

/// <summary>
/// One lease in memory: plain renewals in place, every other change a swap that fails when the lease moved since it
/// was read, renewals included, so no change is lost to another.
/// </summary>
public sealed class LeaseTests
{
    private static readonly DateTimeOffset s_start = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    private static SessionRecord Joined() => new("ses_1", "default", "a", 30, s_start, s_start, s_start.AddSeconds(30), null, false, null);

    [Fact]
    public void A_renewal_in_place_moves_the_lease_fields_and_only_forward()
    {
        var lease = new Lease(Joined());

        Assert.Equal(Joined(), lease.Record);
        Assert.True(lease.TryRenewInPlace(s_start.AddSeconds(10), 0.5, true, out var renewed));
        Assert.True(lease.TryRenewInPlace(s_start.AddSeconds(5), null, null, out _));

        var expected = Joined() with { LastSeen = s_start.AddSeconds(10), ExpiresAt = s_start.AddSeconds(40), Load = 0.5, Idle = true };
        Assert.Equal(expected, renewed.ToRecord());
        Assert.Equal(SessionStatus.Idle, renewed.StatusAt(s_start.AddSeconds(40)));
        Assert.Equal(SessionStatus.Stale, renewed.StatusAt(s_start.AddSeconds(41)));
        Assert.Equal(expected, lease.Record);
        Assert.Equal(s_start.AddSeconds(40), lease.ExpiresAt);
    }

    [Fact]
    public void A_swap_from_a_read_older_than_a_renewal_fails_and_one_from_a_later_read_keeps_the_renewal()
    {
        var lease = new Lease(Joined());
        var stale = lease.Record;
        Assert.True(lease.TryRenewInPlace(s_start.AddSeconds(10), null, null, out _));

        Assert.False(lease.TrySwap(stale, stale with { StallNotified = true }));
        var current = lease.Record;
        Assert.True(lease.TrySwap(current, current with { StallNotified = true }));
        Assert.Equal(Joined() with { LastSeen = s_start.AddSeconds(10), ExpiresAt = s_start.AddSeconds(40), StallNotified = true }, lease.Record);
        Assert.False(lease.TrySwap(current, current with { StaleNotified = true }));
    }

    [Fact]
    public void A_lease_past_its_grace_or_announced_stale_is_not_renewed_in_place()
    {
        var lease = new Lease(Joined());
        Assert.False(lease.TryRenewInPlace(s_start.AddSeconds(61), null, null, out _));

        var stale = lease.Record with { StaleNotified = true };
        Assert.True(lease.TrySwap(lease.Record, stale));
        Assert.False(lease.TryRenewInPlace(s_start.AddSeconds(31), null, null, out _));
        Assert.Equal(stale, lease.Record);
    }

    [Fact]
    public async Task Renewals_and_swaps_racing_lose_neither()
    {
        var lease = new Lease(Joined());
        const int Renewals = 20_000;
        var marks = 0;
        var renewing = Task.Run(() =>
        {
            for (var i = 1; i <= Renewals; i++)
            {
                Assert.True(lease.TryRenewInPlace(s_start.AddMilliseconds(i), null, null, out _));
            }
        }, TestContext.Current.CancellationToken);
        var marking = Task.Run(() =>
        {
            // Each swap flips the flag from what it read: a swap that overwrote a renewal would move the lease back.
            while (!renewing.IsCompleted)
            {
                var read = lease.Record;
                if (lease.TrySwap(read, read with { StallNotified = !read.StallNotified }))
                {
                    marks++;
                }
            }
        }, TestContext.Current.CancellationToken);
        await Task.WhenAll(renewing, marking);

        Assert.Equal(s_start.AddMilliseconds(Renewals), lease.Record.LastSeen);
        Assert.Equal(s_start.AddMilliseconds(Renewals).AddSeconds(30), lease.Record.ExpiresAt);
        Assert.Equal(marks % 2 == 1, lease.Record.StallNotified);
    }
}
