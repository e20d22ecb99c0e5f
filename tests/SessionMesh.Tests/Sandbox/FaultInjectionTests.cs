using System.Diagnostics;
using System.Net;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Sandbox;

/// <summary>A <c>serve --sandbox</c> server in process: each fault, where faults apply, and the seed.</summary>
public sealed class FaultInjectionTests
{
    private const string Api = "api/session-mesh";
    private const string FaultsPath = Api + "/sandbox/faults";

    private static readonly Dictionary<string, string> s_seeded = new() { ["Sandbox:Seed"] = "7" };

    private static Task<MeshTestServer> SandboxAsync(string? faults) =>
        MeshTestServer.StartAsync(sandbox: true, faults: faults, settings: s_seeded);

    /// <summary>An injected 5xx: 503 or 500, a problem with code <c>sandbox_fault</c>.</summary>
    private static Reply ExpectServerFault(Reply reply)
    {
        Assert.True(reply.Status is HttpStatusCode.ServiceUnavailable or HttpStatusCode.InternalServerError, $"Expected an injected 5xx, got {(int)reply.Status}: {reply.Body}");
        reply.ExpectProblem(reply.Status, "sandbox_fault");
        Assert.Equal("5xx", reply.Headers["X-Sandbox-Fault"]);
        return reply;
    }

    [Fact]
    public async Task Injected_5xx_answers_api_calls_with_a_problem_but_not_health_checks()
    {
        await using var server = await SandboxAsync("5xx=1.0");
        using var client = server.CreateClient();

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 12; i++)
        {
            var reply = ExpectServerFault(await client.GetReplyAsync($"{Api}/keys/self"));
            if (reply.Headers.ContainsKey("Retry-After"))
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, reply.Status);
                Assert.Equal("1", reply.Headers["Retry-After"]);
            }
            statuses.Add(reply.Status);
        }
        Assert.Contains(HttpStatusCode.ServiceUnavailable, statuses);
        ExpectServerFault(await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "a"}"""));
        ExpectServerFault(await client.GetReplyAsync($"{Api}/no-such-thing"));

        (await client.GetReplyAsync("healthz")).Expect(HttpStatusCode.OK);
        (await client.GetReplyAsync("readyz")).Expect(HttpStatusCode.OK);
        (await client.GetReplyAsync("openapi/v1.json")).Expect(HttpStatusCode.OK);
        (await client.GetReplyAsync(FaultsPath)).Expect(HttpStatusCode.OK);
        // A faulted request is not carried out: the session above was never created.
        (await client.SendReplyAsync(HttpMethod.Put, FaultsPath, "{}")).Expect(HttpStatusCode.OK);
        (await client.GetReplyAsync($"{Api}/agents/a")).ExpectProblem(HttpStatusCode.NotFound, "agent_not_found");
    }

    [Fact]
    public async Task Injected_401_looks_like_a_refused_key()
    {
        await using var server = await SandboxAsync("401=1.0");
        using var client = server.CreateClient();
        using var stranger = server.CreateClient("sm_key_0000000000000000.not-a-real-secret");

        var injected = (await client.GetReplyAsync($"{Api}/keys/self")).ExpectProblem(HttpStatusCode.Unauthorized, "invalid_key");
        var real = (await stranger.GetReplyAsync($"{Api}/keys/self")).ExpectProblem(HttpStatusCode.Unauthorized, "invalid_key");

        Assert.Equal(real.Headers["WWW-Authenticate"], injected.Headers["WWW-Authenticate"]);
        Assert.Contains("error=\"invalid_token\"", injected.Headers["WWW-Authenticate"], StringComparison.Ordinal);
        Assert.Equal("401", injected.Headers["X-Sandbox-Fault"]);
        Assert.False(real.Headers.ContainsKey("X-Sandbox-Fault"));
        (await client.GetReplyAsync(FaultsPath)).Expect(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Injected_429_says_when_to_retry()
    {
        await using var server = await SandboxAsync("429=1");
        using var client = server.CreateClient();

        var reply = (await client.GetReplyAsync($"{Api}/alive")).ExpectProblem(HttpStatusCode.TooManyRequests, "rate_limited");

        Assert.Equal("1", reply.Headers["Retry-After"]);
    }

    [Fact]
    public async Task Latency_delays_every_api_call_by_at_least_its_lower_bound()
    {
        await using var server = await SandboxAsync("latency=150ms-200ms");
        using var client = server.CreateClient();
        (await client.GetReplyAsync("healthz")).Expect(HttpStatusCode.OK);

        for (var i = 0; i < 3; i++)
        {
            var watch = Stopwatch.StartNew();
            (await client.GetReplyAsync($"{Api}/keys/self")).Expect(HttpStatusCode.OK);
            Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(150), $"took {watch.Elapsed.TotalMilliseconds} ms");
        }
    }

    [Fact]
    public async Task Drop_stream_cuts_a_command_stream_after_its_first_frame()
    {
        await using var server = await SandboxAsync("drop-stream=1.0");
        using var client = server.CreateClient();
        (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "dropped"}""")).Expect(HttpStatusCode.Created);
        (await client.PostReplyAsync($"{Api}/steer", """{"agent_id": "dropped", "direction": "north"}""")).Expect(HttpStatusCode.OK);
        (await client.PostReplyAsync($"{Api}/steer", """{"agent_id": "dropped", "direction": "south"}""")).Expect(HttpStatusCode.OK);

        await using var stream = await SseReader.OpenAsync(client, $"{Api}/agents/dropped/commands");
        var first = await stream.NextAsync();

        Assert.NotNull(first);
        Assert.Equal("command", first.Event);
        Assert.Equal("north", first.Json.GetProperty("direction").GetString());
        // Not a clean end (no `end` frame, no end of the response): the connection is gone.
        await Assert.ThrowsAnyAsync<IOException>(() => stream.NextAsync());

        // Only the stream is cut: the second command is still pending, and plain calls work.
        var pending = (await client.GetReplyAsync($"{Api}/agents/dropped/commands?after=1")).Expect(HttpStatusCode.OK).Json.GetProperty("items");
        Assert.Equal("south", Assert.Single(pending.EnumerateArray()).GetProperty("direction").GetString());
    }

    [Fact]
    public async Task Without_faults_a_sandbox_stream_runs_and_ends_cleanly()
    {
        await using var server = await SandboxAsync(null);
        using var client = server.CreateClient();
        (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "calm"}""")).Expect(HttpStatusCode.Created);
        await using var stream = await SseReader.OpenAsync(client, $"{Api}/agents/calm/commands");

        (await client.PostReplyAsync($"{Api}/steer", """{"agent_id": "calm", "direction": "west"}""")).Expect(HttpStatusCode.OK);
        Assert.Equal("west", (await stream.NextOfTypeAsync("command")).Json.GetProperty("direction").GetString());
        (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "calm"}""")).Expect(HttpStatusCode.Created);

        Assert.Equal("superseded", (await stream.NextOfTypeAsync("end")).Json.GetProperty("status").GetString());
        Assert.Null(await stream.NextAsync());
    }

    [Fact]
    public async Task Faults_set_at_run_time_change_behaviour_and_read_back()
    {
        await using var server = await SandboxAsync(null);
        using var client = server.CreateClient();

        Assert.Equal("""{"5xx":0,"401":0,"429":0,"latency":"0ms","drop_stream":0}""", (await client.GetReplyAsync(FaultsPath)).Expect(HttpStatusCode.OK).Body);
        (await client.GetReplyAsync($"{Api}/keys/self")).Expect(HttpStatusCode.OK);

        var set = (await client.SendReplyAsync(HttpMethod.Put, FaultsPath, """{"5xx": 1, "latency": "20ms-200ms", "drop_stream": 0.05}""")).Expect(HttpStatusCode.OK);
        Assert.Equal("""{"5xx":1,"401":0,"429":0,"latency":"20ms-200ms","drop_stream":0.05}""", set.Body);
        Assert.Equal(set.Body, (await client.GetReplyAsync(FaultsPath)).Expect(HttpStatusCode.OK).Body);
        ExpectServerFault(await client.GetReplyAsync($"{Api}/keys/self"));

        // A PUT replaces every rate: what it leaves out is off.
        (await client.SendReplyAsync(HttpMethod.Put, FaultsPath, """{"401": 1}""")).Expect(HttpStatusCode.OK);
        (await client.GetReplyAsync($"{Api}/keys/self")).ExpectProblem(HttpStatusCode.Unauthorized, "invalid_key");
        (await client.SendReplyAsync(HttpMethod.Put, FaultsPath, "{}")).Expect(HttpStatusCode.OK);
        (await client.GetReplyAsync($"{Api}/keys/self")).Expect(HttpStatusCode.OK);

        // Changes are audited like any other mutating call.
        var audit = (await client.GetReplyAsync($"{Api}/audit")).Expect(HttpStatusCode.OK).Json.GetProperty("items");
        Assert.Contains(audit.EnumerateArray(), e => e.GetProperty("path").GetString() == "/" + FaultsPath && e.GetProperty("method").GetString() == "PUT");
    }

    [Fact]
    public async Task Drop_stream_set_at_run_time_reaches_an_open_stream()
    {
        await using var server = await SandboxAsync(null);
        using var client = server.CreateClient();
        (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "late"}""")).Expect(HttpStatusCode.Created);
        await using var stream = await SseReader.OpenAsync(client, $"{Api}/agents/late/commands");
        Assert.NotNull(await stream.NextAsync());

        (await client.SendReplyAsync(HttpMethod.Put, FaultsPath, """{"drop_stream": 1}""")).Expect(HttpStatusCode.OK);
        (await client.PostReplyAsync($"{Api}/steer", """{"agent_id": "late", "direction": "east"}""")).Expect(HttpStatusCode.OK);

        Assert.Equal("east", (await stream.NextOfTypeAsync("command")).Json.GetProperty("direction").GetString());
        await Assert.ThrowsAnyAsync<IOException>(() => stream.NextAsync());
    }

    [Theory]
    [InlineData("""{"5xx": 1.5}""", "5xx")]
    [InlineData("""{"401": -0.1}""", "401")]
    [InlineData("""{"drop_stream": 2}""", "drop_stream")]
    [InlineData("""{"latency": "fast"}""", "latency")]
    [InlineData("""{"latency": "200ms-20ms"}""", "latency")]
    [InlineData("""{"5xx": "often"}""", "5xx")]
    [InlineData("""{"500": 0.1}""", null)]
    public async Task A_bad_put_is_a_400_naming_the_field_and_changes_nothing(string body, string? field)
    {
        await using var server = await SandboxAsync("429=0.5");
        using var client = server.CreateClient();
        var before = (await client.GetReplyAsync(FaultsPath)).Expect(HttpStatusCode.OK).Body;

        var reply = (await client.SendReplyAsync(HttpMethod.Put, FaultsPath, body)).ExpectProblem(HttpStatusCode.BadRequest, "validation_failed");

        if (field is null)
        {
            Assert.Contains("Unknown field '500'", reply.Json.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
        else
        {
            Assert.Equal(field, reply.Json.GetProperty("field").GetString());
            Assert.Contains(field, reply.Json.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
        Assert.Equal(before, (await client.GetReplyAsync(FaultsPath)).Body);
    }

    [Fact]
    public async Task Only_admin_keys_may_read_or_change_faults()
    {
        await using var server = await SandboxAsync(null);
        using var root = server.CreateClient();
        var minted = (await root.PostReplyAsync($"{Api}/keys", """{"scopes": ["read", "steer", "keys"]}""")).Expect(HttpStatusCode.Created);
        using var client = server.CreateClient(minted.Json.GetProperty("session_key").GetString());

        (await client.GetReplyAsync(FaultsPath)).ExpectProblem(HttpStatusCode.Forbidden, "insufficient_scope");
        (await client.SendReplyAsync(HttpMethod.Put, FaultsPath, """{"5xx": 1}""")).ExpectProblem(HttpStatusCode.Forbidden, "insufficient_scope");
        (await server.CreateClient("").GetReplyAsync(FaultsPath)).ExpectProblem(HttpStatusCode.Unauthorized, "missing_key");
        (await client.GetReplyAsync($"{Api}/keys/self")).Expect(HttpStatusCode.OK);
    }

    [Fact]
    public async Task The_faults_endpoint_does_not_exist_outside_sandbox_mode()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();

        (await client.GetReplyAsync(FaultsPath)).ExpectProblem(HttpStatusCode.NotFound, "route_not_found");
        (await client.SendReplyAsync(HttpMethod.Put, FaultsPath, """{"5xx": 1}""")).ExpectProblem(HttpStatusCode.NotFound, "route_not_found");
        (await client.GetReplyAsync($"{Api}/keys/self")).Expect(HttpStatusCode.OK);
        var openApi = (await client.GetReplyAsync("openapi/v1.json")).Expect(HttpStatusCode.OK).Body;
        Assert.DoesNotContain("sandbox", openApi, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_same_seed_injects_the_same_faults()
    {
        async Task<string> RunAsync()
        {
            await using var server = await SandboxAsync("5xx=0.5,429=0.2");
            using var client = server.CreateClient();
            var statuses = new List<int>();
            for (var i = 0; i < 20; i++)
            {
                statuses.Add((int)(await client.GetReplyAsync($"{Api}/keys/self")).Status);
            }
            return string.Join(",", statuses);
        }

        var first = await RunAsync();
        Assert.Equal(first, await RunAsync());
        Assert.Contains("200", first, StringComparison.Ordinal);
        Assert.Matches("50[03]", first);
    }

    [Fact]
    public async Task The_throwaway_store_is_deleted_when_the_server_stops()
    {
        string dataDir;
        await using (var server = await SandboxAsync(null))
        {
            dataDir = server.DataDir;
            Assert.StartsWith(Path.GetTempPath(), dataDir, StringComparison.Ordinal);
            Assert.True(File.Exists(Path.Combine(dataDir, "session-mesh.db")));
            using var client = server.CreateClient();
            (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "a"}""")).Expect(HttpStatusCode.Created);
        }
        Assert.False(Directory.Exists(dataDir), $"{dataDir} is still there");
    }
}
