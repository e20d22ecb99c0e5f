using System.Net;
using Microsoft.Extensions.DependencyInjection;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Server;

public sealed class OperationsTests
{
    private const string Api = "api/session-mesh";

    [Fact]
    public async Task Health_and_readiness_need_no_key()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var anonymous = server.CreateClient("");

        Assert.Equal("ok", (await anonymous.GetReplyAsync("healthz")).Expect(HttpStatusCode.OK).Json.GetProperty("status").GetString());
        Assert.Equal("ready", (await anonymous.GetReplyAsync("readyz")).Expect(HttpStatusCode.OK).Json.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Metrics_are_prometheus_text_with_sessions_heartbeats_and_http()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        var id = (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "m"}""")).Json.GetProperty("session_id").GetString();
        (await client.PostReplyAsync($"{Api}/sessions/{id}/heartbeat", "{}")).Expect(HttpStatusCode.OK);
        (await client.PostReplyAsync($"{Api}/steer", """{"agent_id": "m", "direction": "up"}""")).Expect(HttpStatusCode.OK);
        (await client.PostReplyAsync($"{Api}/steer", """{"agent_id": "m", "direction": "down"}""")).Expect(HttpStatusCode.OK);
        Assert.Equal(2, (await client.GetReplyAsync($"{Api}/agents/m/commands?limit=2")).Json.GetProperty("items").GetArrayLength());
        (await client.PostReplyAsync($"{Api}/steer", """{"agent_id": "m", "direction": "left"}""")).Expect(HttpStatusCode.OK);
        await server.App.Services.GetRequiredService<SessionMesh.Server.Observability.MeshMetrics>().RefreshAsync(TestContext.Current.CancellationToken);

        using var anonymous = server.CreateClient("");
        var metrics = (await anonymous.GetReplyAsync("metrics")).Expect(HttpStatusCode.OK).Body;

        Assert.Contains("session_mesh_heartbeats", metrics, StringComparison.Ordinal);
        Assert.Contains("service_name=\"session-mesh\"", metrics, StringComparison.Ordinal);
        Assert.Contains("session_mesh_sessions{", metrics, StringComparison.Ordinal);
        Assert.Matches("""session_mesh_sessions\{[^}]*status="active"[^}]*\} 1\b""", metrics);
        Assert.Contains("http_server_request_duration_seconds", metrics, StringComparison.Ordinal);
        Assert.Matches("""session_mesh_commands\{[^}]*state="delivered"[^}]*\} 2\b""", metrics);
        Assert.Matches("""session_mesh_commands\{[^}]*state="queued"[^}]*\} 1\b""", metrics);
        Assert.Matches("""session_mesh_command_delivery_latency_seconds_count\{[^}]*kind="steer"[^}]*\} 2\b""", metrics);
    }

    [Fact]
    public async Task Metrics_include_the_runtimes_own_collections_pauses_and_allocations()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var anonymous = server.CreateClient("");
        GC.Collect(0);
        var collectedBefore = GC.CollectionCount(0);

        var metrics = (await anonymous.GetReplyAsync("metrics")).Expect(HttpStatusCode.OK).Body;

        // One series per generation, each counting the collections of that generation; GC.CollectionCount(0) counts them all.
        var collections = System.Text.RegularExpressions.Regex.Matches(metrics, """dotnet_gc_collections_total\{[^}]*gc_heap_generation="gen[012]"[^}]*\} (\d+)""");
        Assert.Equal(3, collections.Count);
        Assert.True(collections.Sum(m => long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)) >= collectedBefore);
        Assert.Matches("""dotnet_gc_pause_time_seconds_total\{[^}]*\} [0-9.eE+-]+""", metrics);
        Assert.Matches("""dotnet_gc_heap_total_allocated_bytes_total\{[^}]*\} [1-9]""", metrics);
        Assert.Contains("dotnet_thread_pool_queue_length_total", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_of_one_server_are_not_overwritten_by_another_in_the_same_process()
    {
        await using var first = await MeshTestServer.StartAsync();
        await using var second = await MeshTestServer.StartAsync();
        using var client = first.CreateClient();
        (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "only-on-first"}""")).Expect(HttpStatusCode.Created);
        // The second server's meters are made after the first's, so in a shared listener its gauge would be read last.
        foreach (var server in new[] { first, second })
        {
            await server.App.Services.GetRequiredService<SessionMesh.Server.Observability.MeshMetrics>().RefreshAsync(TestContext.Current.CancellationToken);
        }

        using var anonymous = first.CreateClient("");
        var metrics = (await anonymous.GetReplyAsync("metrics")).Expect(HttpStatusCode.OK).Body;
        using var anonymousSecond = second.CreateClient("");
        var metricsSecond = (await anonymousSecond.GetReplyAsync("metrics")).Expect(HttpStatusCode.OK).Body;

        Assert.Matches("""session_mesh_sessions\{[^}]*status="active"[^}]*\} 1\b""", metrics);
        Assert.Matches("""session_mesh_sessions\{[^}]*status="active"[^}]*\} 0\b""", metricsSecond);
    }

    [Fact]
    public async Task Openapi_document_lists_the_endpoints()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var anonymous = server.CreateClient("");

        var doc = (await anonymous.GetReplyAsync("openapi/v1.json")).Expect(HttpStatusCode.OK).Json;

        var paths = doc.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Contains("/api/session-mesh/alive", paths);
        Assert.Contains("/api/session-mesh/sessions/{session_id}/heartbeat", paths);
        Assert.Contains("/api/session-mesh/keys", paths);
        var parameters = doc.GetProperty("paths").EnumerateObject().SelectMany(p => p.Value.EnumerateObject())
            .Where(o => o.Value.TryGetProperty("parameters", out _))
            .SelectMany(o => o.Value.GetProperty("parameters").EnumerateArray())
            .Where(p => p.GetProperty("in").GetString() == "query")
            .Select(p => p.GetProperty("name").GetString()!).Distinct().ToList();
        Assert.Contains("parent_id", parameters);
        Assert.Contains("grace_period", parameters);
        Assert.All(parameters, name => Assert.Equal(name.ToLowerInvariant(), name));
    }

    [Fact]
    public async Task Audit_records_which_key_made_each_mutating_call_and_the_outcome()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var root = server.CreateClient();
        var key = (await root.PostReplyAsync($"{Api}/keys", """{"scopes": ["read", "agent"], "agent_id": "audited"}""")).Json;
        using var agent = server.CreateClient(key.GetProperty("session_key").GetString());
        var id = (await agent.PostReplyAsync($"{Api}/sessions", """{"agent_id": "audited"}""")).Expect(HttpStatusCode.Created).Json.GetProperty("session_id").GetString();
        (await agent.PostReplyAsync($"{Api}/sessions/{id}/heartbeat", "{}")).Expect(HttpStatusCode.OK);
        (await agent.PostReplyAsync($"{Api}/registry", """{"specialization": "x", "agent_id": "someone-else"}""")).Expect(HttpStatusCode.Forbidden);
        await server.App.Services.GetRequiredService<SessionMesh.Server.Hosting.AuditWriter>().FlushAsync(TestContext.Current.CancellationToken);

        var entries = (await root.GetReplyAsync($"{Api}/audit")).Expect(HttpStatusCode.OK).Json.GetProperty("items").EnumerateArray().ToList();

        var keyId = key.GetProperty("key_id").GetString();
        var mine = entries.Where(e => e.GetProperty("key_id").GetString() == keyId).ToList();
        Assert.Equal(2, mine.Count);
        Assert.Equal("/api/session-mesh/registry", mine[0].GetProperty("path").GetString());
        Assert.Equal(403, mine[0].GetProperty("status").GetInt32());
        Assert.Equal("agent_mismatch", mine[0].GetProperty("code").GetString());
        Assert.Equal(201, mine[1].GetProperty("status").GetInt32());
        Assert.Contains(entries, e => e.GetProperty("key_id").GetString() == "root" && e.GetProperty("method").GetString() == "POST");
    }

    [Fact]
    public async Task Rate_limit_answers_429_with_retry_after()
    {
        await using var server = await MeshTestServer.StartAsync(settings: new Dictionary<string, string> { ["Server:RateLimitPerSecond"] = "1", ["Server:RateLimitBurst"] = "2" });
        using var client = server.CreateClient();

        var replies = new List<Reply>();
        for (var i = 0; i < 4; i++)
        {
            replies.Add(await client.GetReplyAsync($"{Api}/alive"));
        }

        var limited = replies.First(r => r.Status == HttpStatusCode.TooManyRequests);
        limited.ExpectProblem(HttpStatusCode.TooManyRequests, "rate_limited");
        Assert.True(int.Parse(limited.Headers["Retry-After"], System.Globalization.CultureInfo.InvariantCulture) >= 1);
        // Probes and scrapes never spend the budget.
        using var anonymous = server.CreateClient("");
        for (var i = 0; i < 5; i++)
        {
            (await anonymous.GetReplyAsync("healthz")).Expect(HttpStatusCode.OK);
        }
    }

    [Fact]
    public async Task A_spent_rate_limit_refills_with_time()
    {
        await using var server = await MeshTestServer.StartAsync(settings: new Dictionary<string, string> { ["Server:RateLimitPerSecond"] = "1", ["Server:RateLimitBurst"] = "1" });
        using var client = server.CreateClient();
        (await client.GetReplyAsync($"{Api}/alive")).Expect(HttpStatusCode.OK);
        (await client.GetReplyAsync($"{Api}/alive")).ExpectProblem(HttpStatusCode.TooManyRequests, "rate_limited");

        // The limiter refills on its own clock (a token a second here); a bucket that never refilled would lock the key out.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        Reply reply;
        do
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100), TestContext.Current.CancellationToken);
            reply = await client.GetReplyAsync($"{Api}/alive");
        }
        while (reply.Status == HttpStatusCode.TooManyRequests && DateTime.UtcNow < deadline);
        reply.Expect(HttpStatusCode.OK);
    }
}
