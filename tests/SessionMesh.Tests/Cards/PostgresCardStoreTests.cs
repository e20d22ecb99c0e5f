using SessionMesh.Store;
using SessionMesh.Store.Postgres;
using SessionMesh.Tests.Postgres;

namespace SessionMesh.Tests.Cards;

/// <summary>The card store contract on a fresh PostgreSQL database.</summary>
public sealed class PostgresCardStoreTests : CardStoreContractTests
{
    private PostgresTestDatabase? _database;

    protected override async Task<IMeshStore> CreateStoreAsync(CancellationToken cancellationToken)
    {
        _database = await PostgresTestDatabase.CreateAsync(cancellationToken);
        var store = new PostgresMeshStore(_database.ConnectionString);
        await store.MigrateAsync(cancellationToken);
        return store;
    }

    protected override IMeshStore Reopen() => new PostgresMeshStore(_database!.ConnectionString);

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }
}
