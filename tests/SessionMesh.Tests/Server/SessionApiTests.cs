using System.Net;
using System.Text.Json;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Server;

public sealed class SessionApiTests
{
    private const string Api = "api/session-mesh";

    [Fact]
    public async Task Join_returns_201_with_an_active_session_and_its_lease()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();

        var reply = (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "planner-7", "ttl": 45, "labels": {"team": "red"}, "specializations": ["image-processing", {"name": "ocr", "tags": ["vision"]}]}"""))
            .Expect(HttpStatusCode.Created);

        var session = reply.Json;
        Assert.StartsWith("ses_", session.GetProperty("session_id").GetString());
        Assert.Equal("planner-7", session.GetProperty("agent_id").GetString());
        Assert.Equal("default", session.GetProperty("cluster").GetString());
        Assert.Equal("active", session.GetProperty("status").GetString());
        Assert.Equal(45, session.GetProperty("ttl").GetInt32());
        Assert.Equal("red", session.GetProperty("labels").GetProperty("team").GetString());
        Assert.Equal(["image-processing", "ocr"], session.GetProperty("specializations").EnumerateArray().Select(s => s.GetString()).Order());
        var started = session.GetProperty("started_at").GetDateTimeOffset();
        Assert.Equal(started.AddSeconds(45), session.GetProperty("expires_at").GetDateTimeOffset());
        Assert.EndsWith("Z", session.GetProperty("started_at").GetString());
        Assert.Equal($"/{Api}/sessions/{session.GetProperty("session_id").GetString()}", reply.Headers["Location"]);
    }

    [Fact]
    public async Task Seed_python_snippet_lists_alive_sessions_with_only_a_bearer_header()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "123"}""")).Expect(HttpStatusCode.Created);

        // requests.get(url, headers={'Authorization': f'Bearer {key}'}) — and the ?filter=active variant.
        foreach (var path in new[] { $"{Api}/alive", $"{Api}/alive?filter=active" })
        {
            var json = (await client.GetReplyAsync(path)).Expect(HttpStatusCode.OK).Json;
            var items = json.GetProperty("items").EnumerateArray().ToList();
            Assert.Single(items);
            Assert.Equal("123", items[0].GetProperty("agent_id").GetString());
            Assert.Equal(JsonValueKind.Null, json.TryGetProperty("next_cursor", out var cursor) ? cursor.ValueKind : JsonValueKind.Null);
        }
    }

    [Fact]
    public async Task Second_join_supersedes_the_first_session()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        var first = (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "a1"}""")).Expect(HttpStatusCode.Created).Json.GetProperty("session_id").GetString();

        var second = (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "a1"}""")).Expect(HttpStatusCode.Created).Json;

        Assert.Equal(first, second.GetProperty("superseded_session_id").GetString());
        var old = (await client.GetReplyAsync($"{Api}/sessions/{first}")).Expect(HttpStatusCode.OK).Json;
        Assert.Equal("superseded", old.GetProperty("status").GetString());
        (await client.PostReplyAsync($"{Api}/sessions/{first}/heartbeat", "{}")).ExpectProblem(HttpStatusCode.Gone, "session_ended");
        var alive = (await client.GetReplyAsync($"{Api}/alive")).Json.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(second.GetProperty("session_id").GetString(), Assert.Single(alive).GetProperty("session_id").GetString());
    }

    [Fact]
    public async Task Heartbeat_renews_the_lease_and_reports_load_and_idleness()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        var id = (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "worker-1", "ttl": 10}""")).Json.GetProperty("session_id").GetString();

        var beat = (await client.PostReplyAsync($"{Api}/sessions/{id}/heartbeat", """{"load": 0.75, "status": "idle"}""")).Expect(HttpStatusCode.OK).Json;

        Assert.Equal("idle", beat.GetProperty("status").GetString());
        Assert.Equal(0.75, beat.GetProperty("load").GetDouble());
        Assert.Equal(beat.GetProperty("last_seen").GetDateTimeOffset().AddSeconds(10), beat.GetProperty("expires_at").GetDateTimeOffset());
        var idle = (await client.GetReplyAsync($"{Api}/alive?filter=idle")).Json.GetProperty("items");
        Assert.Equal(1, idle.GetArrayLength());
        Assert.Equal(0, (await client.GetReplyAsync($"{Api}/alive?filter=active")).Json.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task Leave_ends_the_session_and_later_heartbeats_get_410()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        var id = (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "worker-2"}""")).Json.GetProperty("session_id").GetString();

        var left = (await client.DeleteReplyAsync($"{Api}/sessions/{id}")).Expect(HttpStatusCode.OK).Json;

        Assert.Equal("left", left.GetProperty("status").GetString());
        Assert.True(left.TryGetProperty("ended_at", out _));
        (await client.PostReplyAsync($"{Api}/sessions/{id}/heartbeat", "{}")).ExpectProblem(HttpStatusCode.Gone, "session_ended");
        Assert.Equal("left", (await client.DeleteReplyAsync($"{Api}/sessions/{id}")).Expect(HttpStatusCode.OK).Json.GetProperty("status").GetString());
        var ended = (await client.GetReplyAsync($"{Api}/alive?filter=ended")).Json.GetProperty("items");
        Assert.Equal(id, ended[0].GetProperty("session_id").GetString());
    }

    [Fact]
    public async Task Unknown_session_is_404()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        (await client.PostReplyAsync($"{Api}/sessions/ses_nope/heartbeat", "{}")).ExpectProblem(HttpStatusCode.NotFound, "session_not_found");
        (await client.GetReplyAsync($"{Api}/sessions/ses_nope")).ExpectProblem(HttpStatusCode.NotFound, "session_not_found");
        (await client.DeleteReplyAsync($"{Api}/sessions/ses_nope")).ExpectProblem(HttpStatusCode.NotFound, "session_not_found");
    }
}
