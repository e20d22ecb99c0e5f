using SessionMesh.Mesh;
using SessionMesh.Model;

namespace SessionMesh.Tests.Mesh;

/// <summary>
/// What the sweep asks the lease table — which leases lapsed, which may have stalled — answered from its indexes, not
/// by reading every lease: the answers must be what a walk of every lease would give, whatever renewals, ends and
/// re-opens came in between.
/// </summary>
public sealed class LeaseSweepIndexTests
{
    private static readonly DateTimeOffset s_start = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    // The sweep's questions are answered from memory: the table never reads or writes its store for them.
    private static LeaseTable NewTable() => new(store: null!);

    private static SessionRecord Open(string sessionId, int ttl, int? stallAfter = null) =>
        new(sessionId, "c1", "agent-" + sessionId, ttl, s_start, s_start, s_start.AddSeconds(ttl), null, false, null, StallAfter: stallAfter);

    private static List<string> LapsedAt(LeaseTable table, double seconds) =>
        table.Lapsed(s_start.AddSeconds(seconds)).ConvertAll(l => l.Record.SessionId);

    private static void Renew(LeaseTable table, string sessionId, double atSeconds) =>
        Assert.NotNull(table.TryRenew(table.Find(sessionId)!, s_start.AddSeconds(atSeconds), null, null, null, out _));

    [Fact]
    public void A_lease_renewed_before_its_expiry_is_not_lapsed_and_one_past_it_stays_lapsed_until_it_ends()
    {
        using var table = NewTable();
        table.Load([Open("a", 10), Open("b", 20), Open("c", 30)]);

        Renew(table, "a", 9);
        Assert.Empty(LapsedAt(table, 12));
        Assert.Equal(["a", "b"], LapsedAt(table, 21));
        // Lapsed leases are found again by every sweep until they are renewed or end.
        Assert.Equal(["a", "b"], LapsedAt(table, 21));

        table.Forget("b");
        Renew(table, "a", 21);
        Assert.Equal(["c"], LapsedAt(table, 31));
        Assert.Equal(["c", "a"], LapsedAt(table, 31.5));
    }

    [Fact]
    public void A_session_opened_again_is_judged_by_its_new_lease_not_its_old_one()
    {
        using var table = NewTable();
        table.Load([Open("a", 10)]);
        var reopened = table.Adopt(Open("b", 60));
        Assert.Same(reopened, table.Adopt(Open("b", 5)));

        table.Forget("a");
        table.Adopt(Open("a", 60));
        Assert.Empty(LapsedAt(table, 30));
        Assert.Equal(["a", "b"], LapsedAt(table, 61));
    }

    [Fact]
    public void Leases_that_end_long_before_their_ttl_do_not_pile_up_in_the_index()
    {
        using var table = NewTable();
        table.Load([Open("kept", 3600)]);
        for (var i = 0; i < 20_000; i++)
        {
            table.Adopt(Open($"s{i}", 3600));
            table.Forget($"s{i}");
        }

        Assert.Empty(LapsedAt(table, 1));
        Assert.InRange(table.ExpiryEntries, 1, 1024);
        Assert.Equal(["kept"], LapsedAt(table, 3601));
    }

    [Fact]
    public void Only_leases_with_a_stall_threshold_are_judged_for_stalls_and_an_ended_one_is_not()
    {
        using var table = NewTable();
        table.Load([Open("watched", 600, stallAfter: 30), Open("unwatched", 600), Open("ending", 600, stallAfter: 30)]);
        table.Forget("ending");

        var stalled = table.StallChanges(s_start.AddSeconds(31)).ConvertAll(l => l.Record.SessionId);

        Assert.Equal(["watched"], stalled);
        Assert.Empty(table.StallChanges(s_start.AddSeconds(10)));
    }
}
