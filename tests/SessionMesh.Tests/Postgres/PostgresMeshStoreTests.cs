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
}
