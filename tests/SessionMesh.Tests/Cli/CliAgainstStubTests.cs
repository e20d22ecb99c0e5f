using System.Text.Json;
using SessionMesh.Tests.Client;

namespace SessionMesh.Tests.Cli;

/// <summary>CLI behaviour that needs scripted answers: output shapes, exit codes per status, confirmation.</summary>
public sealed class CliAgainstStubTests
{
    private const string Key = "sm_test.0123456789abcdef";

    private static string Agent(string id, params string[] children) => $$"""
        {"agent_id": "{{id}}", "cluster": "default", "alive": true, "status": "active", "labels": {}, "specializations": [],
         "children": [{{string.Join(",", children.Select(c => $"\"{c}\""))}}], "created_at": "2026-01-01T00:00:00.000Z"}
        """;

    private const string KillAnswer = """
        {"agent_id": "456", "status": "killing", "force": false, "cascade": true, "grace_period": 10,
         "killed": [{"agent_id": "456", "status": "killing", "session_id": "s1", "command_id": "c9"}], "orphaned": []}
        """;

    [Fact]
    public async Task List_as_json_has_the_api_shape_and_follows_every_page()
    {
        await using var server = await StubServer.StartAsync((context, n) => StubServer.Json(context, 200,
            n == 1 ? Samples.SessionPage("a1").Replace("]}", "], \"next_cursor\": \"p2\"}", StringComparison.Ordinal) : Samples.SessionPage("b2")));
        using var cli = new CliHarness().WithServer(server.BaseAddress, Key);

        var run = (await cli.RunAsync("list", "--filter", "alive", "--output", "json")).Expect(0);

        using var json = JsonDocument.Parse(run.Out);
        var items = json.RootElement.GetProperty("items");
        Assert.Equal(["a1", "b2"], items.EnumerateArray().Select(i => i.GetProperty("agent_id").GetString()));
        Assert.Equal("active", items[0].GetProperty("status").GetString());
        Assert.False(json.RootElement.TryGetProperty("next_cursor", out _));
        Assert.Equal("/api/session-mesh/alive?filter=alive&limit=1000&cursor=p2", server.Requests.Last().PathAndQuery);
    }

    [Fact]
    public async Task Output_is_json_when_piped_and_a_table_on_a_terminal()
    {
        await using var server = await StubServer.StartAsync((context, _) => StubServer.Json(context, 200, Samples.SessionPage("planner-7")));
        using var cli = new CliHarness().WithServer(server.BaseAddress, Key);

        var piped = (await cli.RunAsync("list")).Expect(0);
        var terminal = (await cli.RunAsync(["list"], terminal: true)).Expect(0);

        Assert.StartsWith("{", piped.Out, StringComparison.Ordinal);
        var lines = terminal.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("AGENT", lines[0], StringComparison.Ordinal);
        Assert.Contains("STATUS", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("planner-7", lines[1], StringComparison.Ordinal);
        Assert.Contains("active", lines[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task List_tree_draws_sub_agents_under_their_parent()
    {
        const string page = """
            {"items": [
              {"session_id": "s1", "agent_id": "root", "cluster": "default", "status": "active", "ttl": 30, "started_at": "2026-01-01T00:00:00.000Z", "last_seen": "2026-01-01T00:00:00.000Z", "expires_at": "2026-01-01T00:00:30.000Z", "labels": {}, "specializations": []},
              {"session_id": "s2", "agent_id": "child-a", "parent_id": "root", "cluster": "default", "status": "idle", "ttl": 30, "started_at": "2026-01-01T00:00:00.000Z", "last_seen": "2026-01-01T00:00:00.000Z", "expires_at": "2026-01-01T00:00:30.000Z", "labels": {}, "specializations": []},
              {"session_id": "s3", "agent_id": "grandchild", "parent_id": "child-a", "cluster": "default", "status": "active", "ttl": 30, "started_at": "2026-01-01T00:00:00.000Z", "last_seen": "2026-01-01T00:00:00.000Z", "expires_at": "2026-01-01T00:00:30.000Z", "labels": {}, "specializations": []},
              {"session_id": "s4", "agent_id": "child-b", "parent_id": "root", "cluster": "default", "status": "active", "ttl": 30, "started_at": "2026-01-01T00:00:00.000Z", "last_seen": "2026-01-01T00:00:00.000Z", "expires_at": "2026-01-01T00:00:30.000Z", "labels": {}, "specializations": []}
            ]}
            """;
        await using var server = await StubServer.StartAsync((context, _) => StubServer.Json(context, 200, page));
        using var cli = new CliHarness().WithServer(server.BaseAddress, Key);

        var run = (await cli.RunAsync(["list", "--tree"], terminal: true)).Expect(0);

        var lines = run.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("root active", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("├── child-a idle", lines[1], StringComparison.Ordinal);
        Assert.StartsWith("│   └── grandchild active", lines[2], StringComparison.Ordinal);
        Assert.StartsWith("└── child-b active", lines[3], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(404, "agent_not_found", 3)]
    [InlineData(401, "key_expired", 4)]
    [InlineData(403, "insufficient_scope", 4)]
    [InlineData(409, "agent_not_alive", 5)]
    [InlineData(400, "validation_failed", 2)]
    [InlineData(410, "session_ended", 1)]
    public async Task Problems_map_to_the_documented_exit_codes_with_one_line(int status, string code, int exitCode)
    {
        await using var server = await StubServer.StartAsync((context, _) => StubServer.Problem(context, status, code, "Explained."));
        using var cli = new CliHarness().WithServer(server.BaseAddress, Key);

        var run = (await cli.RunAsync("steer", "--agent-id", "123", "--direction", "west")).Expect(exitCode);

        var line = Assert.Single(run.Error.TrimEnd().Split('\n'));
        Assert.Contains($"Explained. ({status} {code})", line, StringComparison.Ordinal);
        Assert.Empty(run.Out);
    }

    [Fact]
    public async Task A_404_says_what_is_wrong_and_what_to_do()
    {
        await using var server = await StubServer.StartAsync((context, _) => StubServer.Problem(context, 404, "agent_not_found", "No agent '456' in this cluster."));
        using var cli = new CliHarness().WithServer(server.BaseAddress, Key);

        var run = (await cli.RunAsync("kill", "--agent-id", "456", "--force")).Expect(3);

        Assert.Equal("session-mesh: error: No agent '456' in this cluster. (404 agent_not_found). Check the id with `session-mesh list --filter all`.", run.Error.TrimEnd());
    }

    [Fact]
    public async Task Kill_without_a_terminal_refuses_and_sends_nothing()
    {
        await using var server = await StubServer.StartAsync((context, _) => StubServer.Json(context, 200, KillAnswer));
        using var cli = new CliHarness().WithServer(server.BaseAddress, Key);

        var run = (await cli.RunAsync("kill", "--agent-id", "456")).Expect(2);

        Assert.Contains("refusing to kill agent 456 without confirmation", run.Error, StringComparison.Ordinal);
        Assert.Contains("--yes", run.Error, StringComparison.Ordinal);
        Assert.Equal(0, server.Count);
    }

    [Fact]
    public async Task Kill_on_a_terminal_asks_and_kills_on_yes()
    {
        await using var server = await StubServer.StartAsync((context, _) =>
            StubServer.Json(context, 200, context.Request.Method == "GET" ? Agent("456", "457", "458") : KillAnswer));
        using var cli = new CliHarness().WithServer(server.BaseAddress, Key);

        var run = (await cli.RunAsync(["kill", "--agent-id", "456", "--reason", "stuck"], stdin: "y\n", terminal: true)).Expect(0);

        Assert.Contains("Kill agent 456 and its sub-agents (2 direct)? [y/N]", run.Error, StringComparison.Ordinal);
        Assert.Contains("Killing agent 456", run.Out, StringComparison.Ordinal);
        Assert.Equal(["GET /api/session-mesh/agents/456", "DELETE /api/session-mesh/agents/456?reason=stuck"], server.Requests.Select(r => $"{r.Method} {r.PathAndQuery}"));
    }

    [Fact]
    public async Task Kill_on_a_terminal_does_nothing_on_no()
    {
        await using var server = await StubServer.StartAsync((context, _) => StubServer.Json(context, 200, Agent("456")));
        using var cli = new CliHarness().WithServer(server.BaseAddress, Key);

        var run = (await cli.RunAsync(["kill", "--agent-id", "456"], stdin: "n\n", terminal: true)).Expect(1);

        Assert.Contains("Not killed.", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(server.Requests, r => r.Method == "DELETE");
    }

    [Fact]
    public async Task Kill_flags_become_query_parameters()
    {
        await using var server = await StubServer.StartAsync((context, _) => StubServer.Json(context, 200, KillAnswer));
        using var cli = new CliHarness().WithServer(server.BaseAddress, Key);

        var run = (await cli.RunAsync("kill", "--agent-id", "456", "--yes", "--no-cascade", "--grace-period", "30", "--cluster", "distributed-comms")).Expect(0);

        Assert.Equal("/api/session-mesh/agents/456?cascade=false&grace_period=30&cluster=distributed-comms", server.Requests.Single().PathAndQuery);
        Assert.Equal("killing", JsonDocument.Parse(run.Out).RootElement.GetProperty("status").GetString());

        (await cli.RunAsync("kill", "--agent-id", "456", "--yes", "--propagation", "orphan")).Expect(0);
        Assert.Equal("/api/session-mesh/agents/456?cascade=false", server.Requests.Last().PathAndQuery);
        var contradiction = (await cli.RunAsync("kill", "--agent-id", "456", "--yes", "--no-cascade", "--propagation", "cascade")).Expect(2);
        Assert.Contains("--no-cascade contradicts --propagation cascade", contradiction.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verbose_logs_requests_to_stderr_with_the_key_masked_and_keeps_stdout_clean()
    {
        await using var server = await StubServer.StartAsync((context, _) => StubServer.Json(context, 200, Samples.EmptyPage));
        using var cli = new CliHarness().WithServer(server.BaseAddress, Key);

        var run = (await cli.RunAsync("list", "--filter", "alive", "--verbose")).Expect(0);

        Assert.Contains("[verbose] GET ", run.Error, StringComparison.Ordinal);
        Assert.Contains("/api/session-mesh/alive?filter=alive", run.Error, StringComparison.Ordinal);
        Assert.Contains("-> 200 in ", run.Error, StringComparison.Ordinal);
        Assert.Contains("key sm_t****", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(Key, run.Error, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(run.Out);
        Assert.Equal(0, json.RootElement.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task Steer_sends_the_seed_body_and_wait_polls_until_acked()
    {
        await using var server = await StubServer.StartAsync((context, n) => StubServer.Json(context, 200,
            context.Request.Method == "POST" ? Samples.Command(1, status: "queued", direction: "west")
            : n < 3 ? Samples.Command(1, status: "delivered", direction: "west") : Samples.Command(1, status: "acked", direction: "west")));
        using var cli = new CliHarness().WithServer(server.BaseAddress, Key);

        var run = (await cli.RunAsync("steer", "--agent-id", "123", "--direction", "west", "--mode", "interrupt", "--wait", "--output", "json")).Expect(0);

        var post = server.Requests.First();
        Assert.Equal("""{"agent_id":"123","direction":"west","mode":"interrupt"}""", post.Body);
        Assert.NotNull(post.Header("Idempotency-Key"));
        Assert.Equal("acked", JsonDocument.Parse(run.Out).RootElement.GetProperty("status").GetString());
        // Waiting is the server's (GET /commands/{id}?wait=), not a client-side poll loop.
        Assert.All(server.Requests.Skip(1), r => Assert.StartsWith("GET /api/session-mesh/commands/c1?wait=", $"{r.Method} {r.PathAndQuery}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Register_reads_the_seed_key_value_yaml_and_flags_override_it()
    {
        await using var server = await StubServer.StartAsync((context, _) => StubServer.Json(context, 201, """
            {"agent_id": "790", "cluster": "default", "specialization": "data-analysis", "registered_at": "2026-01-01T00:00:00.000Z", "alive": false}
            """));
        using var cli = new CliHarness().WithServer(server.BaseAddress, Key);
        var file = cli.WriteFile("spec.yaml", "spec: data-analysis\nagent-id: 789\ndescription: crunches numbers\ntags: [batch, gpu]\n");

        var run = (await cli.RunAsync(["register", "--config", file, "--agent-id", "790"], terminal: true)).Expect(0);

        Assert.Equal("""{"specialization":"data-analysis","agent_id":"790","description":"crunches numbers","tags":["batch","gpu"]}""", server.Requests.Single().Body);
        Assert.Equal("Registered agent 790 for data-analysis (not alive yet).", run.Out.TrimEnd());
    }

    [Fact]
    public async Task Register_without_spec_or_agent_is_a_usage_error()
    {
        using var cli = new CliHarness().With("SESSION_API_KEY", Key);

        var run = (await cli.RunAsync("register", "--spec", "x")).Expect(2);

        Assert.Contains("register needs --spec and --agent-id", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Topology_tree_is_drawn_from_the_json_topology()
    {
        await using var server = await StubServer.StartAsync((context, _) => StubServer.Json(context, 200, """
            {"cluster": "default",
             "nodes": [{"agent_id": "root", "status": "active", "alive": true, "specializations": ["planning"]},
                       {"agent_id": "w1", "parent_id": "root", "status": "stale", "alive": false, "specializations": []}],
             "edges": [{"from": "root", "to": "w1"}]}
            """));
        using var cli = new CliHarness().WithServer(server.BaseAddress, Key);

        var run = (await cli.RunAsync(["topology"], terminal: true)).Expect(0);

        Assert.Equal("root active [planning]\n└── w1 stale\n", run.Out.ReplaceLineEndings("\n"));
        Assert.Equal("/api/session-mesh/topology?format=json", server.Requests.Single().PathAndQuery);
    }

    [Fact]
    public async Task Watch_prints_events_as_json_lines()
    {
        await using var server = await StubServer.StartAsync(async (context, _) =>
        {
            await StubServer.SseAsync(context, Samples.EventFrame(5), Samples.EventFrame(6, "session.left"));
            await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
        });
        using var cli = new CliHarness().WithServer(server.BaseAddress, Key);

        var run = (await cli.RunAsync("watch", "--since", "4", "--count", "2")).Expect(0);

        var lines = run.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.Equal(6, JsonDocument.Parse(lines[1]).RootElement.GetProperty("revision").GetInt64());
        Assert.Equal("/api/session-mesh/events?since=4", server.Requests.Single().PathAndQuery);
    }

    [Fact]
    public async Task An_unreachable_server_is_exit_6_with_one_line()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        using var cli = new CliHarness().WithServer(new Uri($"http://127.0.0.1:{port}"), Key);

        var run = (await cli.RunAsync("list")).Expect(6);

        var line = Assert.Single(run.Error.TrimEnd().Split('\n'));
        Assert.Contains($"cannot reach the session-mesh server at http://127.0.0.1:{port}/ after 3 attempts", line, StringComparison.Ordinal);
        Assert.Contains("session-mesh serve", line, StringComparison.Ordinal);
    }

}
