using Microsoft.Data.Sqlite;
using SessionMesh.Model;
using SessionMesh.Store;
using SessionMesh.Store.Sqlite;

using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Store;

/// <summary>The store contract on a real SQLite file in a directory of its own, plus what only SQLite has.</summary>
public sealed class SqliteMeshStoreTests : MeshStoreContractTests
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "session-mesh-tests", Guid.NewGuid().ToString("N"));

    // A directory that does not exist yet: the store creates it.
    private string FilePath => Path.Combine(_directory, "data", SqliteMeshStore.DefaultFileName);

    protected override async Task<IMeshStore> CreateStoreAsync(CancellationToken cancellationToken)
    {
        var store = new SqliteMeshStore(FilePath);
        await store.MigrateAsync(cancellationToken);
        return store;
    }

    protected override Task<IMeshStore> ReopenStoreAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IMeshStore>(new SqliteMeshStore(FilePath));

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public async Task File_IsInWriteAheadLogMode()
    {
        Assert.True(File.Exists(FilePath));
        await using var connection = await OpenRawAsync();
        Assert.Equal("wal", await RawSqlite.ScalarAsync<string>(connection, "PRAGMA journal_mode"));
    }

    [Fact]
    public async Task Readers_WaitForALockedDatabase_NewAndPooledAlike()
    {
        var store = (SqliteMeshStore)Store;
        for (var open = 0; open < 3; open++)
        {
            // The first open makes a pooled connection; the next ones take it back from the pool.
            await using var reader = await store.OpenReaderAsync(Ct);
            using var command = reader.CreateCommand();
            command.CommandText = "PRAGMA busy_timeout";
            Assert.Equal(5000L, (long)(await command.ExecuteScalarAsync(Ct))!);
        }
    }

    [Fact]
    public async Task Migrations_AreRecordedOnce()
    {
        await Store.MigrateAsync(Ct);
        await CloseStoreAsync();
        await using (var reopened = await ReopenStoreAsync(Ct))
        {
            await reopened.MigrateAsync(Ct);
        }

        await using var connection = await OpenRawAsync();
        Assert.Equal(1L, await RawSqlite.ScalarAsync<long>(connection, "SELECT COUNT(*) FROM schema_migrations WHERE version = 1"));
        Assert.Equal(1L, await RawSqlite.ScalarAsync<long>(connection, "SELECT COUNT(*) FROM schema_migrations WHERE version = 2"));
        Assert.Equal(0L, await RawSqlite.ScalarAsync<long>(connection, "SELECT COUNT(*) FROM (SELECT version FROM schema_migrations GROUP BY version HAVING COUNT(*) > 1)"));
        Assert.True(await RawSqlite.ScalarAsync<long>(connection, "SELECT MIN(applied_at) FROM schema_migrations") > 0);
    }

    [Fact]
    public async Task Migrate_DropsTheExpiryIndexOfAnOlderDatabase()
    {
        const string CountIndex = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'ix_sessions_open_expires'";
        await CloseStoreAsync();
        await using (var connection = await OpenRawAsync())
        {
            Assert.Equal(0L, await RawSqlite.ScalarAsync<long>(connection, CountIndex));
            // Back to the schema as version 10 left it.
            await RawSqlite.ExecuteAsync(connection, """
                CREATE INDEX ix_sessions_open_expires ON sessions (expires_at) WHERE end_status IS NULL;
                DELETE FROM schema_migrations WHERE version = 11;
                """);
        }

        await using var reopened = await ReopenStoreAsync(Ct);
        await reopened.MigrateAsync(Ct);
        await using var reread = await OpenRawAsync();
        Assert.Equal(0L, await RawSqlite.ScalarAsync<long>(reread, CountIndex));
        Assert.Equal(1L, await RawSqlite.ScalarAsync<long>(reread, "SELECT COUNT(*) FROM schema_migrations WHERE version = 11"));
    }

    [Fact]
    public async Task Migrate_PointsEachAgentAtItsLatestSession_AndDropsTheSessionIndexesKeyedByAgent()
    {
        const string SessionIndexes = "SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'sessions' AND name LIKE '%agent%' ORDER BY name)";
        await CloseStoreAsync();
        await using (var connection = await OpenRawAsync())
        {
            // Back to the schema as version 11 left it, with sessions as it wrote them.
            await RawSqlite.ExecuteAsync(connection, """
                DROP INDEX ix_sessions_agent_ended;
                ALTER TABLE agents DROP COLUMN latest_session_id;
                CREATE UNIQUE INDEX ux_sessions_open_agent ON sessions (cluster, agent_id) WHERE end_status IS NULL;
                CREATE INDEX ix_sessions_agent ON sessions (cluster, agent_id, started_at);
                DELETE FROM schema_migrations WHERE version = 12;
                INSERT INTO agents (cluster, agent_id, labels, created_at, updated_at)
                VALUES ('c1', 'a1', '{}', 0, 0), ('c1', 'a2', '{}', 0, 0), ('c1', 'a3', '{}', 0, 0), ('c2', 'a1', '{}', 0, 0);
                INSERT INTO sessions (session_id, cluster, agent_id, ttl, started_at, last_seen, expires_at, end_status) VALUES
                    ('s1', 'c1', 'a1', 30, 1000, 1000, 31000, 'superseded'),
                    ('s2', 'c1', 'a1', 30, 3000, 3000, 4102444800000, NULL),
                    ('s3', 'c1', 'a1', 30, 5000, 5000, 35000, 'left'),
                    ('s4', 'c1', 'a2', 30, 1000, 1000, 31000, 'expired'),
                    ('s5', 'c1', 'a2', 30, 4000, 4000, 34000, 'killed'),
                    ('s6', 'c2', 'a1', 30, 1000, 1000, 4102444800000, NULL);
                """);
        }

        await using var reopened = await ReopenStoreAsync(Ct);
        await reopened.MigrateAsync(Ct);
        static string[] Ids(IEnumerable<SessionRecord> sessions) => sessions.Select(s => s.SessionId).ToArray();
        // An open session is the latest even when an ended one started after it; a3 never joined.
        Assert.Equal(["s2", "s5"], Ids(await reopened.GetLatestSessionsAsync("c1", ["a1", "a2", "a3"], Ct)));
        Assert.Equal(["s2"], Ids(await reopened.GetOpenSessionsAsync("c1", ["a1", "a2", "a3"], Ct)));
        Assert.Equal(["s6"], Ids(await reopened.GetOpenSessionsAsync("c2", ["a1"], Ct)));
        Assert.Equal(["s1", "s2", "s3"], Ids(await reopened.ListSessionsAsync(new SessionQuery("c1", StatusFilter.All, Now, 10, AgentId: "a1"), Ct)));
        await using (var tx = await reopened.BeginWriteAsync(Ct))
        {
            // s2 is still open: a second open session of a1 is refused, as the unique index refused it.
            await Assert.ThrowsAsync<InvalidOperationException>(() => tx.InsertSessionAsync(Session("s7", "a1", Now.AddSeconds(30)), Ct));
        }

        await using var reread = await OpenRawAsync();
        Assert.Equal("ix_sessions_agent_ended", await RawSqlite.ScalarAsync<string>(reread, SessionIndexes));
        Assert.Equal(1L, await RawSqlite.ScalarAsync<long>(reread, "SELECT COUNT(*) FROM schema_migrations WHERE version = 12"));
    }

    [Fact]
    public async Task InsertSession_RefusesAnOpenSessionOfAnAgentWithoutARow_ItWouldNeverBeFound()
    {
        await using (var tx = await Store.BeginWriteAsync(Ct))
        {
            await Assert.ThrowsAsync<InvalidOperationException>(() => tx.InsertSessionAsync(Session("s1", "no-row", Now.AddSeconds(30)), Ct));
        }
        Assert.Null(await Store.GetSessionAsync("s1", Ct));
    }

    [Fact]
    public async Task Migrate_UpgradesAVersion1Database_KeepingItsData()
    {
        long revision = 0;
        await WriteAsync(async tx =>
        {
            await tx.UpsertAgentAsync(Agent("a1"), Ct);
            revision = await tx.AppendEventAsync("c1", "agent.registered", Now, "a1", null, null, Ct);
        });
        await CloseStoreAsync();
        await using (var connection = await OpenRawAsync())
        {
            // Back to the schema as version 1 left it.
            await RawSqlite.ExecuteAsync(connection, """
                DROP TABLE commands; DROP TABLE command_sequences; DROP INDEX ix_sessions_open_runtime;
                DELETE FROM schema_migrations WHERE version = 2;
                """);
        }

        await using var reopened = await ReopenStoreAsync(Ct);
        await reopened.MigrateAsync(Ct);
        Assert.NotNull(await reopened.GetAgentAsync("c1", "a1", Ct));
        Assert.Equal(revision, await reopened.GetLatestRevisionAsync(Ct));
        await using (var tx = await reopened.BeginWriteAsync(Ct))
        {
            await tx.InsertCommandAsync(Command("cmd-1", "a1", await tx.NextCommandSequenceAsync("c1", "a1", Ct)), Ct);
            await tx.CommitAsync(Ct);
        }
        Assert.Equal(1, (await reopened.GetCommandAsync("cmd-1", Ct))!.Sequence);
    }

    [Fact]
    public async Task CommandSequences_AreNotReused_EvenAfterCommandsAreDeleted()
    {
        await WriteAsync(async tx =>
        {
            for (var i = 1; i <= 3; i++)
            {
                await tx.InsertCommandAsync(Command($"cmd-{i}", "a1", await tx.NextCommandSequenceAsync("c1", "a1", Ct)), Ct);
            }
        });
        await using (var connection = await OpenRawAsync())
        {
            await RawSqlite.ExecuteAsync(connection, "DELETE FROM commands");
        }

        await WriteAsync(async tx => Assert.Equal(4, await tx.NextCommandSequenceAsync("c1", "a1", Ct)));
    }

    [Fact]
    public async Task Commands_RefuseAnUnknownKindOrStatus()
    {
        await WriteAsync(tx => tx.InsertCommandAsync(Command("cmd-1", "a1", 1), Ct));
        await using var connection = await OpenRawAsync();
        await Assert.ThrowsAsync<SqliteException>(() => RawSqlite.ExecuteAsync(connection, "UPDATE commands SET status = 'lost'"));
        await Assert.ThrowsAsync<SqliteException>(() => RawSqlite.ExecuteAsync(connection, "UPDATE commands SET kind = 'pause'"));
    }

    [Fact]
    public async Task Migrate_RefusesASchemaNewerThanTheBuild()
    {
        await CloseStoreAsync();
        await using (var connection = await OpenRawAsync())
        {
            await RawSqlite.ScalarAsync<long>(connection, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (100000, 'future', 0) RETURNING version");
        }

        await using var reopened = await ReopenStoreAsync(Ct);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => reopened.MigrateAsync(Ct));
        Assert.Contains("100000", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Constructor_AcceptsAConnectionString()
    {
        await using var store = new SqliteMeshStore($"Data Source={Path.Combine(_directory, "other", "mesh.db")};Cache=Private");
        await store.MigrateAsync(Ct);
        Assert.True(await store.PingAsync(Ct));
        Assert.Equal(Path.Combine(_directory, "other", "mesh.db"), store.FilePath);
    }

    [Fact]
    public void Constructor_RefusesAnInMemoryDatabase() =>
        Assert.Throws<ArgumentException>(() => new SqliteMeshStore(":memory:"));

    private Task<SqliteConnection> OpenRawAsync() => RawSqlite.OpenAsync(FilePath);
}
