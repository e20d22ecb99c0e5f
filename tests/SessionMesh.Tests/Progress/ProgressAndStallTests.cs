using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Progress;

/// <summary>
/// Heartbeats that prove progress: counters that only grow, an activity line, and the <c>stalled</c> status for a
/// session whose counters stop growing for its <c>stall_after</c>, with its events and the action it asked for.
/// </summary>
public sealed class ProgressAndStallTests
{
    private const string Api = "api/session-mesh";

    // The sweeper does not run on its own: each test runs its parts when the fake clock says so.
    private static readonly Dictionary<string, string> s_manualSweeps = new() { ["Mesh:SweepInterval"] = "1.00:00:00" };

    [Fact]
    public async Task Progress_on_heartbeats_shows_in_the_session_and_counters_only_grow()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        var sessionId = await client.JoinAsync("worker");

        (await client.PostReplyAsync($"{Api}/sessions/{sessionId}/heartbeat", """{"progress": {"tokens": 1200, "tool_calls": 3, "activity": "reading the repo"}}""")).Expect(HttpStatusCode.OK);
        (await client.PostReplyAsync($"{Api}/sessions/{sessionId}/progress", """{"turns": 2, "cost_usd": 0.05, "activity": "running tests"}""")).Expect(HttpStatusCode.OK);

        var progress = (await client.GetReplyAsync($"{Api}/sessions/{sessionId}")).Expect(HttpStatusCode.OK).Json.GetProperty("progress");
        Assert.Equal(1200, progress.GetProperty("tokens").GetInt64());
        Assert.Equal(3, progress.GetProperty("tool_calls").GetInt64());
        Assert.Equal(2, progress.GetProperty("turns").GetInt64());
        Assert.Equal(0.05, progress.GetProperty("cost_usd").GetDouble());
        Assert.Equal("running tests", progress.GetProperty("activity").GetString());

        var lower = await client.PostReplyAsync($"{Api}/sessions/{sessionId}/progress", """{"tokens": 1000}""");
        Assert.Equal(HttpStatusCode.BadRequest, lower.Status);
        Assert.Contains("progress.tokens", lower.Body);
        Assert.Contains("1200", lower.Body);
        var negative = await client.PostReplyAsync($"{Api}/sessions/{sessionId}/heartbeat", """{"progress": {"tool_calls": -1}}""");
        Assert.Equal(HttpStatusCode.BadRequest, negative.Status);
        Assert.Contains("progress.tool_calls", negative.Body);
        var wordy = await client.PostReplyAsync($"{Api}/sessions/{sessionId}/progress", $$"""{"activity": "{{new string('x', 201)}}"}""");
        Assert.Equal(HttpStatusCode.BadRequest, wordy.Status);
        Assert.Contains("progress.activity", wordy.Body);
        var unknown = await client.PostReplyAsync($"{Api}/sessions/{sessionId}/progress", """{"tokenz": 5}""");
        Assert.Equal(HttpStatusCode.BadRequest, unknown.Status);
    }

    [Fact]
    public async Task Frozen_counters_make_a_session_stalled_then_active_again_on_progress_with_events()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await MeshTestServer.StartAsync(time: time, settings: s_manualSweeps);
        using var client = server.CreateClient();
        var sessionId = await JoinAsync(client, "slow", """ "ttl": 3600, "stall_after": 60 """);

        time.Advance(TimeSpan.FromSeconds(30));
        await ProgressAsync(client, sessionId, 100);
        time.Advance(TimeSpan.FromSeconds(50));
        await ProgressAsync(client, sessionId, 200);
        Assert.Equal(0, await server.SweepStallsAsync());
        Assert.Equal("active", await StatusAsync(client, sessionId));

        time.Advance(TimeSpan.FromSeconds(61));
        // A heartbeat without progress keeps the lease, not the agent's claim to be working.
        var beat = (await client.PostReplyAsync($"{Api}/sessions/{sessionId}/heartbeat", "{}")).Expect(HttpStatusCode.OK);
        Assert.Equal("stalled", beat.Json.GetProperty("status").GetString());
        Assert.Equal("stalled", await StatusAsync(client, sessionId));
        Assert.Equal(1, await server.SweepStallsAsync());
        Assert.Equal(0, await server.SweepStallsAsync());
        Assert.Contains("slow", await AgentIdsAsync(client, "stalled"));
        Assert.Contains("slow", await AgentIdsAsync(client, "alive"));
        Assert.DoesNotContain("slow", await AgentIdsAsync(client, "active"));

        await ProgressAsync(client, sessionId, 300);
        Assert.Equal("active", await StatusAsync(client, sessionId));
        Assert.Equal(1, await server.SweepStallsAsync());
        Assert.Equal(["session.stalled", "session.progressed"], await StallEventsAsync(client, "slow"));
    }

    [Fact]
    public async Task On_stall_kill_kills_the_agent_gracefully_with_reason_stalled()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await MeshTestServer.StartAsync(time: time, settings: s_manualSweeps);
        using var client = server.CreateClient();
        await JoinAsync(client, "stuck", """ "ttl": 3600, "stall_after": 10, "on_stall": "kill" """);

        time.Advance(TimeSpan.FromSeconds(11));
        await server.SweepStallsAsync();

        var commands = (await client.GetReplyAsync($"{Api}/agents/stuck/commands")).Expect(HttpStatusCode.OK).Json.GetProperty("items");
        var kill = Assert.Single(commands.EnumerateArray(), c => c.GetProperty("kind").GetString() == "kill");
        Assert.Equal("stalled", kill.GetProperty("reason").GetString());
        Assert.Equal("mesh", kill.GetProperty("created_by").GetString());
    }

    [Fact]
    public async Task On_stall_message_sends_the_agent_a_message_once_per_stall()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await MeshTestServer.StartAsync(time: time, settings: s_manualSweeps);
        using var client = server.CreateClient();
        await JoinAsync(client, "dreamer", """ "ttl": 3600, "stall_after": 10, "on_stall": "message" """);
        await using var stream = await SseReader.OpenAsync(client, $"{Api}/agents/dreamer/commands");

        time.Advance(TimeSpan.FromSeconds(11));
        await server.SweepStallsAsync();
        await server.SweepStallsAsync();

        var message = (await stream.NextOfTypeAsync("command")).Json;
        Assert.Equal("message", message.GetProperty("kind").GetString());
        Assert.Equal("mesh", message.GetProperty("from").GetString());
        Assert.Contains("No progress for 10 s", message.GetProperty("text").GetString());
        var commands = (await client.GetReplyAsync($"{Api}/agents/dreamer/commands")).Expect(HttpStatusCode.OK).Json.GetProperty("items");
        Assert.Single(commands.EnumerateArray());
    }

    [Fact]
    public async Task An_idle_agent_is_not_stalled_and_bad_stall_settings_are_refused()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await MeshTestServer.StartAsync(time: time, settings: s_manualSweeps);
        using var client = server.CreateClient();
        var sessionId = await JoinAsync(client, "waiting", """ "ttl": 3600, "stall_after": 10 """);
        (await client.PostReplyAsync($"{Api}/sessions/{sessionId}/heartbeat", """{"status": "idle"}""")).Expect(HttpStatusCode.OK);
        time.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal("idle", await StatusAsync(client, sessionId));
        Assert.Equal(0, await server.SweepStallsAsync());

        var noLimit = await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "x", "on_stall": "kill"}""");
        Assert.Equal(HttpStatusCode.BadRequest, noLimit.Status);
        Assert.Contains("stall_after", noLimit.Body);
        var badAction = await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "x", "stall_after": 10, "on_stall": "explode"}""");
        Assert.Equal(HttpStatusCode.BadRequest, badAction.Status);
        Assert.Contains("on_stall", badAction.Body);
        var zero = await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "x", "stall_after": 0}""");
        Assert.Equal(HttpStatusCode.BadRequest, zero.Status);
        Assert.Contains("stall_after", zero.Body);
    }

    [Fact]
    public async Task Progress_and_the_stall_flag_survive_a_restart()
    {
        var dataDir = MeshTestServer.NewDataDir();
        var rootKey = "sm_root_" + Guid.NewGuid().ToString("N");
        string sessionId;
        await using (var first = await MeshTestServer.StartAsync(dataDir: dataDir, rootKey: rootKey))
        {
            using var client = first.CreateClient();
            sessionId = await JoinAsync(client, "durable", """ "ttl": 3600, "stall_after": 600 """);
            await ProgressAsync(client, sessionId, 42);
        }
        await using var second = await MeshTestServer.StartAsync(dataDir: dataDir, rootKey: rootKey);
        using var again = second.CreateClient();
        var session = (await again.GetReplyAsync($"{Api}/sessions/{sessionId}")).Expect(HttpStatusCode.OK).Json;
        Assert.Equal(42, session.GetProperty("progress").GetProperty("tokens").GetInt64());
        Assert.Equal(600, session.GetProperty("stall_after").GetInt32());
        Assert.Equal("none", session.GetProperty("on_stall").GetString());
        Assert.True(session.TryGetProperty("progressed_at", out _));
    }

    private static async Task<string> JoinAsync(HttpClient client, string agentId, string extra) =>
        (await client.PostReplyAsync($"{Api}/sessions", $$"""{"agent_id": "{{agentId}}", {{extra}}}""")).Expect(HttpStatusCode.Created).Json.GetProperty("session_id").GetString()!;

    private static async Task ProgressAsync(HttpClient client, string sessionId, long tokens) =>
        (await client.PostReplyAsync($"{Api}/sessions/{sessionId}/progress", $$"""{"tokens": {{tokens}}}""")).Expect(HttpStatusCode.OK);

    private static async Task<string?> StatusAsync(HttpClient client, string sessionId) =>
        (await client.GetReplyAsync($"{Api}/sessions/{sessionId}")).Expect(HttpStatusCode.OK).Json.GetProperty("status").GetString();

    private static async Task<List<string>> AgentIdsAsync(HttpClient client, string filter) =>
        (await client.GetReplyAsync($"{Api}/alive?filter={filter}")).Expect(HttpStatusCode.OK).Json.GetProperty("items")
            .EnumerateArray().Select(s => s.GetProperty("agent_id").GetString()!).ToList();

    private static async Task<List<string>> StallEventsAsync(HttpClient client, string agentId) =>
        (await client.GetReplyAsync($"{Api}/events?since=0")).Expect(HttpStatusCode.OK).Json.GetProperty("items").EnumerateArray()
            .Where(e => e.TryGetProperty("agent_id", out var a) && a.GetString() == agentId)
            .Select(e => e.GetProperty("type").GetString()!)
            .Where(t => t is "session.stalled" or "session.progressed")
            .ToList();
}
