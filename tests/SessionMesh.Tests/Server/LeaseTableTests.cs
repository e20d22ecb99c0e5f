using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using SessionMesh.Model;
using SessionMesh.Store.Sqlite;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Server;

/// <summary>
/// Leases in memory: a heartbeat renews a lease without a store write, checkpoints persist it, expiry reads the table,
/// and neither a crash nor the checkpoint lag makes a session end early or a read be wrong.
/// </summary>
public sealed class LeaseTableTests
{
    private const string Api = "api/session-mesh";

    // Sweeps and checkpoints only when a test runs them, so nothing is written behind its back.
    private static readonly Dictionary<string, string> s_manual = new()
    {
        ["Mesh:SweepInterval"] = "1.00:00:00",
        ["Mesh:LeaseCheckpointInterval"] = "1.00:00:00",
    };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<string> JoinAsync(HttpClient client, string agentId, int ttl) =>
        (await client.PostReplyAsync($"{Api}/sessions", $$"""{"agent_id": "{{agentId}}", "ttl": {{ttl}}}""")).Expect(HttpStatusCode.Created).Json.GetProperty("session_id").GetString()!;

    private static async Task<JsonElement> GetSessionAsync(HttpClient client, string sessionId) =>
        (await client.GetReplyAsync($"{Api}/sessions/{sessionId}")).Expect(HttpStatusCode.OK).Json;

    [Fact]
    public async Task A_heartbeat_writes_nothing_to_the_store_until_a_checkpoint()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await MeshTestServer.StartAsync(time: time, settings: s_manual);
        using var client = server.CreateClient();
        var id = await JoinAsync(client, "w", 30);
        var joined = (await server.Store.GetSessionAsync(id, Ct))!;

        time.Advance(TimeSpan.FromSeconds(10));
        var beat = (await client.PostReplyAsync($"{Api}/sessions/{id}/heartbeat", """{"load": 0.5, "status": "idle"}""")).Expect(HttpStatusCode.OK).Json;
        var expiresAt = beat.GetProperty("expires_at").GetDateTimeOffset();
        Assert.Equal(joined.ExpiresAt.AddSeconds(10), expiresAt);

        // The store still has the lease of the join; every read of the API has the heartbeat's.
        Assert.Equal(joined, await server.Store.GetSessionAsync(id, Ct));
        var read = await GetSessionAsync(client, id);
        Assert.Equal(("idle", expiresAt, 0.5), (read.GetProperty("status").GetString(), read.GetProperty("expires_at").GetDateTimeOffset(), read.GetProperty("load").GetDouble()));

        await server.CheckpointLeasesAsync();
        var stored = (await server.Store.GetSessionAsync(id, Ct))!;
        Assert.Equal(joined with { LastSeen = joined.LastSeen.AddSeconds(10), ExpiresAt = expiresAt, Load = 0.5, Idle = true }, stored);
    }

    [Fact]
    public async Task A_heartbeat_lost_in_a_crash_never_lets_its_session_expire_before_its_ttl()
    {
        using var temp = new TempDirectory();
        using var crashed = new TempDirectory();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        string id, rootKey;
        DateTimeOffset beatExpiresAt;
        await using (var server = await MeshTestServer.StartAsync(temp.Path, time, settings: s_manual))
        {
            rootKey = server.RootKey;
            using var client = server.CreateClient();
            id = await JoinAsync(client, "w", 30);
            time.Advance(TimeSpan.FromSeconds(20));
            beatExpiresAt = (await client.PostReplyAsync($"{Api}/sessions/{id}/heartbeat", "{}")).Expect(HttpStatusCode.OK).Json.GetProperty("expires_at").GetDateTimeOffset();

            // A crash now: the database as it is on disk, without the checkpoint a clean stop would write.
            // The WAL holds the join (its commit was synced); SQLite rebuilds the shared-memory index itself.
            foreach (var name in new[] { SqliteMeshStore.DefaultFileName, SqliteMeshStore.DefaultFileName + "-wal" })
            {
                File.Copy(Path.Combine(temp.Path, name), Path.Combine(crashed.Path, name));
            }
        }
        await using (var copy = new SqliteMeshStore(Path.Combine(crashed.Path, SqliteMeshStore.DefaultFileName)))
        {
            Assert.Equal(beatExpiresAt.AddSeconds(-20), (await copy.GetSessionAsync(id, Ct))!.ExpiresAt);
        }

        // The restart comes right after the crash; its lease extension covers the heartbeat the crash lost.
        await using var restarted = await MeshTestServer.StartAsync(crashed.Path, time, rootKey, s_manual);
        using var again = restarted.CreateClient();
        var session = await GetSessionAsync(again, id);
        Assert.Equal("active", session.GetProperty("status").GetString());
        Assert.True(session.GetProperty("expires_at").GetDateTimeOffset() >= beatExpiresAt);

        time.Advance(beatExpiresAt - time.GetUtcNow());
        await restarted.SweepSessionsAsync();
        Assert.Equal("active", (await GetSessionAsync(again, id)).GetProperty("status").GetString());

        time.Advance(TimeSpan.FromSeconds(31));
        await restarted.SweepSessionsAsync();
        Assert.Equal("expired", (await GetSessionAsync(again, id)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_clean_stop_checkpoints_every_renewed_lease()
    {
        using var temp = new TempDirectory();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        string id;
        DateTimeOffset expiresAt;
        await using (var server = await MeshTestServer.StartAsync(temp.Path, time, settings: s_manual))
        {
            using var client = server.CreateClient();
            id = await JoinAsync(client, "w", 30);
            time.Advance(TimeSpan.FromSeconds(20));
            expiresAt = (await client.PostReplyAsync($"{Api}/sessions/{id}/heartbeat", """{"load": 0.75}""")).Expect(HttpStatusCode.OK).Json.GetProperty("expires_at").GetDateTimeOffset();
        }

        await using var store = new SqliteMeshStore(Path.Combine(temp.Path, SqliteMeshStore.DefaultFileName));
        var stored = (await store.GetSessionAsync(id, Ct))!;
        Assert.Equal((expiresAt, 0.75), (stored.ExpiresAt, stored.Load));
    }

    [Fact]
    public async Task Expiry_reads_the_table_sends_stale_then_expired_and_stores_the_last_lease()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await MeshTestServer.StartAsync(time: time, settings: s_manual);
        using var client = server.CreateClient();
        var id = await JoinAsync(client, "w", 10);
        time.Advance(TimeSpan.FromSeconds(5));
        var beat = (await client.PostReplyAsync($"{Api}/sessions/{id}/heartbeat", """{"load": 0.25}""")).Expect(HttpStatusCode.OK).Json;
        var lastSeen = beat.GetProperty("last_seen").GetDateTimeOffset();

        // The store still says the lease lapsed at 10 s: a sweep that read it would mark the session stale at 11 s.
        time.Advance(TimeSpan.FromSeconds(6));
        Assert.Equal(0, await server.SweepSessionsAsync());
        Assert.Equal("active", (await GetSessionAsync(client, id)).GetProperty("status").GetString());

        time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(1, await server.SweepSessionsAsync());
        Assert.Equal(0, await server.SweepSessionsAsync()); // stale once per lapse
        Assert.Equal("stale", (await GetSessionAsync(client, id)).GetProperty("status").GetString());

        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(1, await server.SweepSessionsAsync());
        var ended = (await server.Store.GetSessionAsync(id, Ct))!;
        Assert.Equal((SessionStatus.Expired, lastSeen, lastSeen.AddSeconds(10), 0.25), (ended.EndStatus, ended.LastSeen, ended.ExpiresAt, ended.Load));
        var events = await server.Store.ListEventsAsync("default", 0, 100, Ct);
        Assert.Equal(["session.joined", "session.stale", "session.expired"], events.Where(e => e.SessionId == id).Select(e => e.Type));
        (await client.PostReplyAsync($"{Api}/sessions/{id}/heartbeat", "{}")).ExpectProblem(HttpStatusCode.Gone, "session_ended");
    }

    [Fact]
    public async Task Reads_that_filter_by_lease_fields_do_not_lag_behind_a_heartbeat()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await MeshTestServer.StartAsync(time: time, settings: s_manual);
        using var client = server.CreateClient();
        var id = await JoinAsync(client, "w", 10);
        (await client.PostReplyAsync($"{Api}/registry", """{"specialization": "ocr", "agent_id": "w"}""")).Expect(HttpStatusCode.Created);
        time.Advance(TimeSpan.FromSeconds(15));
        Assert.Equal(id, (await client.GetReplyAsync($"{Api}/alive?filter=stale")).Json.GetProperty("items")[0].GetProperty("session_id").GetString());

        (await client.PostReplyAsync($"{Api}/sessions/{id}/heartbeat", """{"load": 0.5}""")).Expect(HttpStatusCode.OK);

        Assert.Equal(id, (await client.GetReplyAsync($"{Api}/alive?filter=active")).Json.GetProperty("items")[0].GetProperty("session_id").GetString());
        Assert.Empty((await client.GetReplyAsync($"{Api}/alive?filter=stale")).Json.GetProperty("items").EnumerateArray());
        var found = (await client.GetReplyAsync($"{Api}/registry?specialization=ocr&alive=true")).Json.GetProperty("items");
        Assert.Equal(("w", 0.5), (found[0].GetProperty("agent_id").GetString(), found[0].GetProperty("load").GetDouble()));
    }
}
