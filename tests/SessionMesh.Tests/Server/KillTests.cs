using System.Net;
using Microsoft.Extensions.Time.Testing;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Server;

public sealed class KillTests
{
    private const string Api = "api/session-mesh";

    private static async Task<string> StatusAsync(HttpClient client, string sessionId) =>
        (await client.GetReplyAsync($"{Api}/sessions/{sessionId}")).Json.GetProperty("status").GetString()!;

    [Fact]
    public async Task Graceful_kill_with_ack_ends_the_session_and_closes_the_stream()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        var session = await client.JoinAsync("456");
        await using var stream = await SseReader.OpenAsync(client, $"{Api}/agents/456/commands");

        var kill = (await client.DeleteReplyAsync($"{Api}/agents/456?reason=done")).Expect(HttpStatusCode.OK).Json;

        Assert.Equal("killing", kill.GetProperty("status").GetString());
        var frame = await stream.NextOfTypeAsync("command");
        Assert.Equal("kill", frame.Json.GetProperty("kind").GetString());
        Assert.Equal("done", frame.Json.GetProperty("reason").GetString());
        Assert.Equal(10, frame.Json.GetProperty("grace_period").GetInt32());
        (await client.PostReplyAsync($"{Api}/agents/456/commands/{frame.Json.GetProperty("command_id").GetString()}/ack", """{"status": "acked"}""")).Expect(HttpStatusCode.OK);
        Assert.Equal("killed", (await stream.NextOfTypeAsync("end")).Json.GetProperty("status").GetString());
        Assert.Equal("killed", await StatusAsync(client, session));
        (await client.PostReplyAsync($"{Api}/sessions/{session}/heartbeat", "{}")).ExpectProblem(HttpStatusCode.Gone, "session_ended");
        Assert.Equal(0, (await client.GetReplyAsync($"{Api}/alive")).Json.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task A_silent_agent_is_killed_when_the_grace_period_ends()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await MeshTestServer.StartAsync(time: time);
        using var client = server.CreateClient();
        var session = await client.JoinAsync("silent");

        (await client.DeleteReplyAsync($"{Api}/agents/silent?grace_period=5")).Expect(HttpStatusCode.OK);
        time.Advance(TimeSpan.FromSeconds(4));
        await server.SweepCommandsAsync();
        Assert.Equal("active", await StatusAsync(client, session));

        time.Advance(TimeSpan.FromSeconds(1));
        await server.SweepCommandsAsync();

        Assert.Equal("killed", await StatusAsync(client, session));
    }

    [Fact]
    public async Task Seed_force_kill_is_immediate()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        var session = await client.JoinAsync("789");
        await using var stream = await SseReader.OpenAsync(client, $"{Api}/agents/789/commands");

        var kill = (await client.DeleteReplyAsync($"{Api}/agents/789?force=true")).Expect(HttpStatusCode.OK).Json;

        Assert.Equal("killed", kill.GetProperty("status").GetString());
        Assert.Equal("killed", await StatusAsync(client, session));
        Assert.Equal("killed", (await stream.NextOfTypeAsync("end")).Json.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Cascade_kills_a_three_level_tree_and_lists_every_agent()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        await client.JoinAsync("root");
        await client.JoinAsync("mid-a", "root");
        await client.JoinAsync("mid-b", "root");
        await client.JoinAsync("leaf", "mid-a");
        await client.JoinAsync("bystander");

        var kill = (await client.DeleteReplyAsync($"{Api}/agents/root?force=true")).Expect(HttpStatusCode.OK).Json;

        Assert.Equal(["leaf", "mid-a", "mid-b", "root"], kill.GetProperty("killed").EnumerateArray().Select(k => k.GetProperty("agent_id").GetString()).Order());
        var alive = (await client.GetReplyAsync($"{Api}/alive")).Json.GetProperty("items").EnumerateArray().Select(s => s.GetProperty("agent_id").GetString());
        Assert.Equal(["bystander"], alive);
    }

    [Fact]
    public async Task Without_cascade_children_live_on_as_orphans()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        await client.JoinAsync("parent");
        await client.JoinAsync("kid-1", "parent");
        await client.JoinAsync("kid-2", "parent");

        var kill = (await client.DeleteReplyAsync($"{Api}/agents/parent?force=true&cascade=false")).Expect(HttpStatusCode.OK).Json;

        Assert.Equal(["parent"], kill.GetProperty("killed").EnumerateArray().Select(k => k.GetProperty("agent_id").GetString()));
        Assert.Equal(["kid-1", "kid-2"], kill.GetProperty("orphaned").EnumerateArray().Select(k => k.GetString()));
        var orphans = (await client.GetReplyAsync($"{Api}/alive?filter=orphaned")).Json.GetProperty("items").EnumerateArray().Select(s => s.GetProperty("agent_id").GetString()).Order();
        Assert.Equal(["kid-1", "kid-2"], orphans);
    }

    [Fact]
    public async Task A_propagation_policy_is_in_the_answer_the_events_and_the_audit()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        await client.JoinAsync("owner");
        await client.JoinAsync("dependent", "owner");

        var kill = (await client.DeleteReplyAsync($"{Api}/agents/owner?propagation=orphan&grace_period=30")).Expect(HttpStatusCode.OK).Json;
        Assert.Equal("orphan", kill.GetProperty("propagation").GetString());
        Assert.False(kill.GetProperty("cascade").GetBoolean());
        Assert.Equal(["dependent"], kill.GetProperty("orphaned").EnumerateArray().Select(k => k.GetString()));

        var requested = Assert.Single((await client.GetReplyAsync($"{Api}/events?since=0")).Expect(HttpStatusCode.OK).Json.GetProperty("items").EnumerateArray(),
            e => e.GetProperty("type").GetString() == "agent.kill_requested");
        Assert.Equal("owner", requested.GetProperty("agent_id").GetString());
        Assert.Equal("orphan", requested.GetProperty("data").GetProperty("propagation").GetString());
        Assert.Equal(30, requested.GetProperty("data").GetProperty("grace_period").GetInt32());
        var audit = (await client.GetReplyAsync($"{Api}/audit?limit=100")).Expect(HttpStatusCode.OK).Json.GetProperty("items").EnumerateArray()
            .Single(a => a.GetProperty("method").GetString() == "DELETE");
        Assert.Equal("kill_orphan", audit.GetProperty("code").GetString());

        var contradiction = await client.DeleteReplyAsync($"{Api}/agents/dependent?propagation=cascade&cascade=false");
        Assert.Equal(HttpStatusCode.BadRequest, contradiction.Status);
        Assert.Contains("propagation", contradiction.Body);
        var unknown = await client.DeleteReplyAsync($"{Api}/agents/dependent?propagation=background");
        Assert.Equal(HttpStatusCode.BadRequest, unknown.Status);
        Assert.Equal("propagation", unknown.Json.GetProperty("field").GetString());
    }

    [Fact]
    public async Task Killing_twice_is_already_ended_and_unknown_is_404()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        await client.JoinAsync("once");
        (await client.DeleteReplyAsync($"{Api}/agents/once?force=true")).Expect(HttpStatusCode.OK);

        var again = (await client.DeleteReplyAsync($"{Api}/agents/once?force=true")).Expect(HttpStatusCode.OK).Json;

        Assert.Equal("already_ended", again.GetProperty("status").GetString());
        Assert.Empty(again.GetProperty("killed").EnumerateArray());
        (await client.DeleteReplyAsync($"{Api}/agents/456")).ExpectProblem(HttpStatusCode.NotFound, "agent_not_found");
        (await client.DeleteReplyAsync($"{Api}/agents/once?grace_period=-1")).ExpectProblem(HttpStatusCode.BadRequest, "validation_failed");
    }

    [Fact]
    public async Task Max_runtime_kills_the_agent_gracefully()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await MeshTestServer.StartAsync(time: time);
        using var client = server.CreateClient();
        var budgeted = (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "budget", "max_runtime": 60, "ttl": 3600}""")).Expect(HttpStatusCode.Created).Json.GetProperty("session_id").GetString()!;

        time.Advance(TimeSpan.FromSeconds(60));
        await server.SweepCommandsAsync();
        var pending = (await client.GetReplyAsync($"{Api}/agents/budget/commands")).Expect(HttpStatusCode.OK).Json.GetProperty("items");
        Assert.Equal("max_runtime_exceeded", pending[0].GetProperty("reason").GetString());

        time.Advance(TimeSpan.FromSeconds(10));
        await server.SweepCommandsAsync();
        var ended = (await client.GetReplyAsync($"{Api}/sessions/{budgeted}")).Json;
        Assert.Equal("killed", ended.GetProperty("status").GetString());
        Assert.StartsWith("max_runtime_exceeded", ended.GetProperty("end_reason").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_agent_in_its_grace_period_shows_as_terminating_and_a_repeated_kill_keeps_the_first_grace()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        await client.JoinAsync("p");
        var child = await client.JoinAsync("c", parentId: "p");

        var first = (await client.DeleteReplyAsync($"{Api}/agents/p?grace_period=60")).Expect(HttpStatusCode.OK).Json;
        var deadline = first.GetProperty("killed")[0].GetProperty("deadline").GetDateTimeOffset();
        var again = (await client.DeleteReplyAsync($"{Api}/agents/p?grace_period=5")).Expect(HttpStatusCode.OK).Json;

        Assert.Equal(60, again.GetProperty("grace_period").GetInt32());
        Assert.Equal(deadline, again.GetProperty("killed")[0].GetProperty("deadline").GetDateTimeOffset());
        Assert.Equal(first.GetProperty("killed")[0].GetProperty("command_id").GetString(), again.GetProperty("killed")[0].GetProperty("command_id").GetString());
        var agent = (await client.GetReplyAsync($"{Api}/agents/p")).Expect(HttpStatusCode.OK).Json;
        Assert.Equal("active", agent.GetProperty("status").GetString());
        Assert.Equal(deadline, agent.GetProperty("terminating_until").GetDateTimeOffset());
        Assert.Equal(deadline, agent.GetProperty("session").GetProperty("terminating_until").GetDateTimeOffset());
        var alive = (await client.GetReplyAsync($"{Api}/alive")).Expect(HttpStatusCode.OK).Json.GetProperty("items");
        Assert.All(alive.EnumerateArray(), s => Assert.True(s.TryGetProperty("terminating_until", out _)));
        var tree = (await client.GetReplyAsync($"{Api}/agents/p/tree")).Expect(HttpStatusCode.OK).Json;
        Assert.Equal(deadline, tree.GetProperty("terminating_until").GetDateTimeOffset());
        Assert.True(tree.GetProperty("children")[0].TryGetProperty("terminating_until", out _));
        var topology = (await client.GetReplyAsync($"{Api}/topology")).Expect(HttpStatusCode.OK).Json.GetProperty("nodes");
        Assert.All(topology.EnumerateArray(), n => Assert.True(n.TryGetProperty("terminating_until", out _)));
        Assert.Contains("active, terminating", (await client.GetReplyAsync($"{Api}/topology?format=mermaid")).Expect(HttpStatusCode.OK).Body, StringComparison.Ordinal);

        // Once the kill is acked, the session has ended and nothing is terminating any more.
        var kill = first.GetProperty("killed")[1].GetProperty("command_id").GetString();
        using var childKey = server.CreateClient();
        (await childKey.PostReplyAsync($"{Api}/agents/c/commands/{kill}/ack", """{"status": "acked"}""")).Expect(HttpStatusCode.OK);
        var session = (await client.GetReplyAsync($"{Api}/sessions/{child}")).Expect(HttpStatusCode.OK).Json;
        Assert.Equal("killed", session.GetProperty("status").GetString());
        Assert.False(session.TryGetProperty("terminating_until", out _));
    }
}
