using SessionMesh.Model;

namespace SessionMesh.Tests.Store;

public abstract partial class MeshStoreContractTests
{
    // ---- Budget charges in the store (replicas) ----

    [Fact]
    public async Task BudgetCharges_ReadLockedInIdOrder_WriteUsageAlertAndCharged_OfOpenSessionsOnly()
    {
        var holder = Tracked("s-holder", "lead");
        var reporter = Tracked("s-reporter", "worker") with { Budget = null, BudgetUsed = null, BudgetAlert = null, ChargeTo = ["s-holder"] };
        var ended = Tracked("s-ended", "gone") with { EndStatus = SessionStatus.Left, EndedAt = Now, EndReason = "left" };
        await SeedSessionsAsync(holder, reporter, ended);

        // Unknown ids are left out, duplicates read once, the rest come in session id order, ended ones included.
        IReadOnlyList<SessionRecord> read = [];
        await WriteAsync(async tx => read = await tx.GetSessionsForUpdateAsync(["s-reporter", "missing", "s-holder", "s-ended", "s-holder"], Ct));
        Assert.Equal(["s-ended", "s-holder", "s-reporter"], read.Select(s => s.SessionId));
        AssertSession(holder, read[1]);
        Assert.Null(read[2].Charged);

        // A charge writes the usage, the alert and what is charged of the reporter; the ended session stays as it ended.
        var charged = new AgentProgress { Tokens = 1500, ToolCalls = 9 };
        var holderCharged = holder with { BudgetUsed = new AgentProgress { Tokens = 81_000, ToolCalls = 60, CostUsd = 0.25 }, BudgetAlert = "warned" };
        var reporterCharged = reporter with { Charged = charged };
        await WriteAsync(async tx =>
        {
            Assert.Equal(2, await tx.UpdateBudgetChargesAsync([holderCharged, reporterCharged, ended with { BudgetAlert = "exceeded", Charged = charged }], Ct));
            // Later reads in the same write see it.
            var again = await tx.GetSessionsForUpdateAsync(["s-holder", "s-reporter"], Ct);
            AssertSession(holderCharged, again[0]);
            AssertSession(reporterCharged, again[1]);
        });
        AssertSession(holderCharged, await Store.GetSessionAsync("s-holder", Ct));
        AssertSession(reporterCharged, await Store.GetSessionAsync("s-reporter", Ct));
        AssertSession(ended, await Store.GetSessionAsync("s-ended", Ct));
        AssertSession(reporterCharged, Assert.Single(await Store.GetOpenSessionsAsync("c1", ["worker"], Ct)));

        // Nothing else writes what is charged: not a checkpoint, not a session update.
        var renewed = reporterCharged with { LastSeen = Now.AddSeconds(1), ExpiresAt = Now.AddSeconds(40), Charged = null };
        await WriteAsync(async tx => Assert.Equal(1, await tx.UpdateLeasesAsync([renewed], Ct)));
        await WriteAsync(tx => tx.UpdateSessionAsync(renewed with { EndReason = null }, Ct));
        AssertSession(renewed with { Charged = charged }, await Store.GetSessionAsync("s-reporter", Ct));
    }

    [Fact]
    public async Task UpdateLeasesExceptBudgets_WritesTheLease_AndLeavesTheStoredBudgetUsage()
    {
        var session = Tracked("s1", "a1");
        await SeedSessionsAsync(session);
        var stored = session with { BudgetUsed = new AgentProgress { Tokens = 90_000 }, BudgetAlert = "warned", Charged = new AgentProgress { Tokens = 5 } };
        await WriteAsync(tx => tx.UpdateBudgetChargesAsync([stored], Ct));

        // A replica's copy, behind on the budget: its checkpoint moves the lease and the progress, not the usage.
        var copy = session with
        {
            LastSeen = Now.AddSeconds(2),
            ExpiresAt = Now.AddSeconds(32),
            Load = 0.75,
            Progress = new AgentProgress { Tokens = 2000, Activity = "testing" },
            ProgressedAt = Now.AddSeconds(1),
            StallNotified = false,
            BudgetUsed = new AgentProgress { Tokens = 10 },
            BudgetAlert = null,
        };
        await WriteAsync(async tx => Assert.Equal(1, await tx.UpdateLeasesExceptBudgetsAsync([copy], Ct)));
        AssertSession(copy with { BudgetUsed = stored.BudgetUsed, BudgetAlert = "warned", Charged = stored.Charged }, await Store.GetSessionAsync("s1", Ct));

        // Ended sessions are left as they ended.
        var ended = copy with { EndStatus = SessionStatus.Expired, EndedAt = Now, EndReason = "ttl elapsed" };
        await WriteAsync(tx => tx.UpdateSessionAsync(ended, Ct));
        await WriteAsync(async tx => Assert.Equal(0, await tx.UpdateLeasesExceptBudgetsAsync([copy with { LastSeen = Now.AddSeconds(5), ExpiresAt = Now.AddSeconds(35) }], Ct)));
        Assert.Equal(SessionStatus.Expired, (await Store.GetSessionAsync("s1", Ct))!.EndStatus);
    }
}
