using System.Net;
using Microsoft.Extensions.Time.Testing;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Server;

/// <summary>Status transitions driven by a fake clock: active → stale → expired, and the lease extension at restart.</summary>
public sealed class LivenessTests
{
    private const string Api = "api/session-mesh";

    private static async Task<string> StatusAsync(HttpClient client, string sessionId) =>
        (await client.GetReplyAsync($"{Api}/sessions/{sessionId}")).Expect(HttpStatusCode.OK).Json.GetProperty("status").GetString()!;

    [Fact]
    public async Task Session_goes_stale_after_its_ttl_and_expires_after_one_more()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await MeshTestServer.StartAsync(time: time);
        using var client = server.CreateClient();
        var id = (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "w", "ttl": 10}""")).Json.GetProperty("session_id").GetString()!;

        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal("active", await StatusAsync(client, id));

        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal("stale", await StatusAsync(client, id));
        Assert.Single((await client.GetReplyAsync($"{Api}/alive?filter=stale")).Json.GetProperty("items").EnumerateArray());
        Assert.Empty((await client.GetReplyAsync($"{Api}/alive")).Json.GetProperty("items").EnumerateArray());

        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal("expired", await StatusAsync(client, id));
        Assert.Single((await client.GetReplyAsync($"{Api}/alive?filter=ended")).Json.GetProperty("items").EnumerateArray());
        (await client.PostReplyAsync($"{Api}/sessions/{id}/heartbeat", "{}")).ExpectProblem(HttpStatusCode.Gone, "session_ended");
    }

    [Fact]
    public async Task Heartbeat_while_stale_revives_the_session()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await MeshTestServer.StartAsync(time: time);
        using var client = server.CreateClient();
        var id = (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "w", "ttl": 10}""")).Json.GetProperty("session_id").GetString()!;
        time.Advance(TimeSpan.FromSeconds(15));
        Assert.Equal("stale", await StatusAsync(client, id));

        (await client.PostReplyAsync($"{Api}/sessions/{id}/heartbeat", "{}")).Expect(HttpStatusCode.OK);

        Assert.Equal("active", await StatusAsync(client, id));
    }

    [Fact]
    public async Task Sweeper_ends_lapsed_sessions_and_records_stale_then_expired_events()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await MeshTestServer.StartAsync(time: time);
        using var client = server.CreateClient();
        var id = (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "w", "ttl": 5}""")).Json.GetProperty("session_id").GetString()!;

        time.Advance(TimeSpan.FromSeconds(6));
        await server.SweepSessionsAsync();
        time.Advance(TimeSpan.FromSeconds(5));
        await server.SweepSessionsAsync();

        var session = await server.Store.GetSessionAsync(id, TestContext.Current.CancellationToken);
        Assert.Equal(SessionMesh.Model.SessionStatus.Expired, session!.EndStatus);
        var events = await server.Store.ListEventsAsync("default", 0, 100, TestContext.Current.CancellationToken);
        Assert.Equal(["session.joined", "session.stale", "session.expired"], events.Where(e => e.SessionId == id).Select(e => e.Type));
    }

    [Fact]
    public async Task Restart_extends_every_open_lease_by_its_ttl()
    {
        using var temp = new TempDirectory();
        var dataDir = temp.Path;
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        string id;
        string rootKey;
        await using (var server = await MeshTestServer.StartAsync(dataDir, time))
        {
            rootKey = server.RootKey;
            using var client = server.CreateClient();
            id = (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "survivor", "ttl": 30}""")).Json.GetProperty("session_id").GetString()!;
        }

        // The server was down for an hour: far past TTL and grace.
        time.Advance(TimeSpan.FromHours(1));
        await using var restarted = await MeshTestServer.StartAsync(dataDir, time, rootKey);
        using var again = restarted.CreateClient();

        var session = (await again.GetReplyAsync($"{Api}/sessions/{id}")).Expect(HttpStatusCode.OK).Json;
        Assert.Equal("active", session.GetProperty("status").GetString());
        Assert.Equal(time.GetUtcNow().AddSeconds(30), session.GetProperty("expires_at").GetDateTimeOffset(), TimeSpan.FromMilliseconds(1));
        (await again.PostReplyAsync($"{Api}/sessions/{id}/heartbeat", "{}")).Expect(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Spawn_limits_refuse_too_deep_or_too_wide_trees_with_409()
    {
        await using var server = await MeshTestServer.StartAsync(settings: new Dictionary<string, string> { ["Mesh:MaxDepth"] = "2", ["Mesh:MaxChildren"] = "2" });
        using var client = server.CreateClient();
        (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "l0"}""")).Expect(HttpStatusCode.Created);
        (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "l1", "parent_id": "l0"}""")).Expect(HttpStatusCode.Created);
        (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "l2", "parent_id": "l1"}""")).Expect(HttpStatusCode.Created);

        (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "l3", "parent_id": "l2"}""")).ExpectProblem(HttpStatusCode.Conflict, "spawn_limit_exceeded");

        (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "l1b", "parent_id": "l0"}""")).Expect(HttpStatusCode.Created);
        (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "l1c", "parent_id": "l0"}""")).ExpectProblem(HttpStatusCode.Conflict, "spawn_limit_exceeded");
        // A child rejoining under the same parent is not a new child.
        (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "l1b", "parent_id": "l0"}""")).Expect(HttpStatusCode.Created);
        (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "orphan", "parent_id": "nobody"}""")).ExpectProblem(HttpStatusCode.NotFound, "parent_not_found");
    }
}
