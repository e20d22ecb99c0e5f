using SessionMesh.Model;
using SessionMesh.Store.Postgres;

namespace SessionMesh.Tests.Postgres;

/// <summary>The store side of budgets across replicas: charges read locked and written by several stores on one database add up.</summary>
public sealed class PostgresBudgetChargeTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Charges_through_several_stores_on_one_database_at_once_add_up_exactly()
    {
        await using var database = await PostgresTestDatabase.CreateAsync(Ct);
        var stores = Enumerable.Range(0, 3).Select(_ => new PostgresMeshStore(database.ConnectionString)).ToList();
        try
        {
            await stores[0].MigrateAsync(Ct);
            var now = new DateTimeOffset(2030, 6, 1, 12, 0, 0, TimeSpan.Zero);
            await using (var tx = await stores[0].BeginWriteAsync(Ct))
            {
                await tx.UpsertAgentAsync(new AgentRecord("c1", "pool", null, new Dictionary<string, string>(), now, now), Ct);
                await tx.InsertSessionAsync(new SessionRecord("s-pool", "c1", "pool", 60, now, now, now.AddSeconds(60), null, false, null)
                {
                    Budget = new AgentBudget { Tokens = 1_000_000 },
                }, Ct);
                await tx.CommitAsync(Ct);
            }

            // Each store is a replica's: 40 writers on each, every one reading the total locked and writing it plus one.
            await Task.WhenAll(stores.SelectMany(store => Enumerable.Range(0, 40).Select(async _ =>
            {
                await using var tx = await store.BeginWriteAsync(Ct);
                var holder = Assert.Single(await tx.GetSessionsForUpdateAsync(["s-pool"], Ct));
                var used = new AgentProgress { Tokens = 1 }.Plus(holder.BudgetUsed);
                await tx.UpdateBudgetChargesAsync([holder with { BudgetUsed = used }], Ct);
                await tx.CommitAsync(Ct);
            })));

            var final = await stores[1].GetSessionAsync("s-pool", Ct);
            Assert.Equal(120, final!.BudgetUsed!.Tokens);
        }
        finally
        {
            foreach (var store in stores)
            {
                await store.DisposeAsync();
            }
        }
    }
}
