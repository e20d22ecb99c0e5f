using SessionMesh.Store;
using SessionMesh.Store.Sqlite;

namespace SessionMesh.Tests.Cards;

/// <summary>The card store contract on a real SQLite file.</summary>
public sealed class SqliteCardStoreTests : CardStoreContractTests
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "session-mesh-tests", Guid.NewGuid().ToString("N"));

    private string FilePath => Path.Combine(_directory, SqliteMeshStore.DefaultFileName);

    protected override async Task<IMeshStore> CreateStoreAsync(CancellationToken cancellationToken)
    {
        var store = new SqliteMeshStore(FilePath);
        await store.MigrateAsync(cancellationToken);
        return store;
    }

    protected override IMeshStore Reopen() => new SqliteMeshStore(FilePath);

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
