using SessionMesh.Model;
using SessionMesh.Store;
using SessionMesh.Store.Postgres;
using SessionMesh.Tests.Store;

namespace SessionMesh.Tests.Postgres;

/// <summary>The store contract on a fresh PostgreSQL database of its own, plus what only PostgreSQL has.</summary>
public sealed class PostgresMeshStoreTests : MeshStoreContractTests
{
    private PostgresTestDatabase? _database;

    private PostgresTestDatabase Database => _database ?? throw new InvalidOperationException("No database yet.");

    protected override async Task<IMeshStore> CreateStoreAsync(CancellationToken cancellationToken)
    {
        _database = await PostgresTestDatabase.CreateAsync(cancellationToken);
        var store = new PostgresMeshStore(Database.ConnectionString);
        await store.MigrateAsync(cancellationToken);
        return store;
    }

    protected override Task<IMeshStore> ReopenStoreAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IMeshStore>(new PostgresMeshStore(Database.ConnectionString));

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_write_cancelled_while_another_replica_holds_the_write_lock_leaves_the_next_write_working()
    {
        await using var other = new PostgresMeshStore(Database.ConnectionString);
        var held = await other.BeginWriteAsync(Ct);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var waiting = Store.BeginWriteAsync(cancel.Token);
        // Cancelled once it waits in the database for the other replica's batch (BEGIN done, the lock not yet granted).
        while (Convert.ToInt64(await Database.ScalarAsync("SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted", Ct)) == 0)
        {
            await Task.Yield();
        }
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        await held.DisposeAsync();

        await using (var tx = await Store.BeginWriteAsync(Ct))
        {
            await tx.UpsertAgentAsync(Agent("after-cancel"), Ct);
            await tx.CommitAsync(Ct);
        }
        Assert.NotNull(await Store.GetAgentAsync("c1", "after-cancel", Ct));
    }

    [Fact]
    public async Task Migrations_RunOnce_WhenReplicasStartTogether()
    {
        var replicas = Enumerable.Range(0, 4).Select(_ => new PostgresMeshStore(Database.ConnectionString)).ToList();
        try
        {
            await Task.WhenAll(replicas.Select(r => r.MigrateAsync(Ct)));
        }
        finally
        {
            foreach (var replica in replicas)
            {
                await replica.DisposeAsync();
            }
        }
        Assert.Equal((long)PostgresMigrations.All.Count, await Database.ScalarAsync("SELECT COUNT(*) FROM schema_migrations", Ct));
        Assert.Equal(0L, await Database.ScalarAsync("SELECT COUNT(*) FROM (SELECT version FROM schema_migrations GROUP BY version HAVING COUNT(*) > 1) d", Ct));
    }

    [Fact]
    public async Task UpdateLeases_AnOlderLeaseFromAnotherReplica_LeavesTheNewerProgressAlone()
    {
        var session = Tracked("s1", "a1");
        await SeedSessionsAsync(session);
        var newer = session with
        {
            LastSeen = Now.AddSeconds(2), ExpiresAt = Now.AddSeconds(32), ProgressedAt = Now.AddSeconds(2),
            Progress = new AgentProgress { Tokens = 3000, Turns = 5 }, BudgetUsed = new AgentProgress { Tokens = 3000, Turns = 5 }, BudgetAlert = "exceeded",
        };
        var older = session with
        {
            LastSeen = Now.AddSeconds(1), ExpiresAt = Now.AddSeconds(31), ProgressedAt = Now.AddSeconds(1),
            Progress = new AgentProgress { Tokens = 2000, Turns = 4 }, BudgetUsed = new AgentProgress { Tokens = 2000, Turns = 4 }, BudgetAlert = null, StallNotified = false,
        };
        await WriteAsync(async tx => Assert.Equal(1, await tx.UpdateLeasesAsync([newer], Ct)));
        // The earlier heartbeat, checkpointed late by another replica, moves neither the lease nor what it reported back.
        await WriteAsync(async tx => Assert.Equal(0, await tx.UpdateLeasesAsync([older], Ct)));
        AssertSession(newer, await Store.GetSessionAsync("s1", Ct));
    }
}
