using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using ModelContextProtocol.Client;
using SessionMesh.Client;
using SessionMesh.Contracts;
using SessionMesh.Model;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Mcp;

/// <summary>
/// Every tool, called by an MCP client from the SDK against a real server, its effect checked through the HTTP API.
/// Run once over stdio (<see cref="StdioMcpToolsTests"/>) and once over <c>/mcp</c> (<see cref="HttpMcpToolsTests"/>):
/// the same tools must behave the same on both.
/// </summary>
public abstract partial class McpToolsTests
{
    private static readonly string[] s_tools =
    [
        "create_session_key", "find_agents", "get_agent", "get_topology", "get_usage", "kill_agent", "list_locks", "list_sessions",
        "register_specialization", "send_message", "steer_agent", "tail_logs", "watch_events",
    ];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    protected abstract Task<McpClient> ConnectAsync(MeshTestServer server, string key);

    [Fact]
    public async Task Lists_every_tool_with_a_schema_and_marks_read_only_and_destructive_ones()
    {
        await using var server = await MeshTestServer.StartAsync();
        await using var mcp = await ConnectAsync(server, server.RootKey);

        var tools = await mcp.ListToolsAsync(cancellationToken: Ct);

        Assert.Equal(s_tools, tools.Select(t => t.Name).Order(StringComparer.Ordinal));
        Assert.All(tools, t => Assert.False(string.IsNullOrWhiteSpace(t.Description)));
        Assert.All(tools, t => Assert.Equal(JsonValueKind.Object, t.ProtocolTool.InputSchema.GetProperty("properties").ValueKind));
        var readOnly = tools.Where(t => t.ProtocolTool.Annotations?.ReadOnlyHint == true).Select(t => t.Name).Order(StringComparer.Ordinal);
        Assert.Equal(["find_agents", "get_agent", "get_topology", "get_usage", "list_locks", "list_sessions", "tail_logs", "watch_events"], readOnly);
        var destructive = tools.Where(t => t.ProtocolTool.Annotations?.DestructiveHint == true).Select(t => t.Name);
        Assert.Equal(["kill_agent"], destructive);
        var steer = tools.Single(t => t.Name == "steer_agent").ProtocolTool.InputSchema;
        Assert.Equal(["agent_id", "direction"], steer.GetProperty("required").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task Discovery_tools_answer_what_the_api_holds()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var api = new SessionMeshClient(server.BaseAddress, server.RootKey);
        await api.JoinAsync(new JoinRequest { AgentId = "planner", Ttl = 60 }, Ct);
        await api.JoinAsync(new JoinRequest { AgentId = "worker", ParentId = "planner", Ttl = 60, Labels = new() { ["team"] = "red" } }, Ct);
        await using var mcp = await ConnectAsync(server, server.RootKey);

        var registered = (await mcp.CallAsync("register_specialization", new() { ["agent_id"] = "worker", ["specialization"] = "image-processing", ["tags"] = new[] { "png" } })).Json();
        var found = (await mcp.CallAsync("find_agents", new() { ["specialization"] = "image-processing" })).Json();
        var sessions = (await mcp.CallAsync("list_sessions", new() { ["filter"] = "alive", ["labels"] = new[] { "team=red" } })).Json();
        var agent = (await mcp.CallAsync("get_agent", new() { ["agent_id"] = "planner" })).Json();
        var topology = (await mcp.CallAsync("get_topology")).Json();

        Assert.Equal("image-processing", registered.GetProperty("specialization").GetString());
        var viaApi = await api.ListRegistryAsync("image-processing", alive: true, cancellationToken: Ct);
        Assert.Equal("worker", Assert.Single(viaApi.Items).AgentId);
        Assert.Equal("worker", Assert.Single(found.GetProperty("items").EnumerateArray()).GetProperty("agent_id").GetString());
        Assert.Equal("worker", Assert.Single(sessions.GetProperty("items").EnumerateArray()).GetProperty("agent_id").GetString());
        Assert.Equal("planner", agent.GetProperty("agent").GetProperty("agent_id").GetString());
        Assert.Equal("worker", Assert.Single(agent.GetProperty("tree").GetProperty("children").EnumerateArray()).GetProperty("agent_id").GetString());
        var edge = Assert.Single(topology.GetProperty("edges").EnumerateArray());
        Assert.Equal("worker", edge.GetProperty("to").GetString());
    }

    [Fact]
    public async Task A_steer_reaches_the_agents_stream_and_waiting_returns_its_ack()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var api = new SessionMeshClient(server.BaseAddress, server.RootKey);
        await api.JoinAsync(new JoinRequest { AgentId = "123", Ttl = 60 }, Ct);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var received = new List<CommandView>();
        // The agent: reads its command stream and acks each command it gets.
        var agent = Task.Run(async () =>
        {
            await foreach (var command in api.StreamCommandsAsync("123", cancellationToken: stop.Token))
            {
                lock (received)
                {
                    received.Add(command);
                }
                await api.AckAsync("123", command.CommandId, new AckRequest { Status = "acked" }, stop.Token);
            }
        }, Ct);
        await using var mcp = await ConnectAsync(server, server.RootKey);

        var steered = (await mcp.CallAsync("steer_agent", new() { ["agent_id"] = "123", ["direction"] = "west", ["payload"] = JsonDocument.Parse("""{"speed": 3}""").RootElement, ["wait_seconds"] = 30 })).Json();
        var messaged = (await mcp.CallAsync("send_message", new() { ["agent_id"] = "123", ["text"] = "plan ready", ["from"] = "planner", ["wait_seconds"] = 30 })).Json();

        Assert.Equal("acked", steered.GetProperty("status").GetString());
        Assert.Equal("acked", messaged.GetProperty("status").GetString());
        lock (received)
        {
            Assert.Equal(["west", null], received.Select(c => c.Direction));
            Assert.Equal(3, received[0].Payload!.Value.GetProperty("speed").GetInt32());
            Assert.Equal("plan ready", received[1].Text);
        }
        var recent = (await mcp.CallAsync("get_agent", new() { ["agent_id"] = "123" })).Json().GetProperty("recent_commands");
        Assert.Equal(["message", "steer"], recent.EnumerateArray().Select(c => c.GetProperty("kind").GetString()));
        Assert.All(recent.EnumerateArray(), c => Assert.Equal("acked", c.GetProperty("status").GetString()));
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => agent);
    }

    [Fact]
    public async Task A_kill_ends_the_agents_session()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var api = new SessionMeshClient(server.BaseAddress, server.RootKey);
        var session = await api.JoinAsync(new JoinRequest { AgentId = "456", Ttl = 60 }, Ct);
        await using var mcp = await ConnectAsync(server, server.RootKey);

        var killed = (await mcp.CallAsync("kill_agent", new() { ["agent_id"] = "456", ["force"] = true, ["reason"] = "runaway" })).Json();

        Assert.Equal("456", killed.GetProperty("agent_id").GetString());
        var after = await api.GetSessionAsync(session.SessionId, Ct);
        Assert.Equal(SessionStatus.Killed, after.Status);
    }

    [Fact]
    public async Task Watch_events_pages_the_history_and_waits_a_bounded_time_for_new_events()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var api = new SessionMeshClient(server.BaseAddress, server.RootKey);
        await api.JoinAsync(new JoinRequest { AgentId = "w1", Ttl = 60 }, Ct);
        await using var mcp = await ConnectAsync(server, server.RootKey);

        var history = (await mcp.CallAsync("watch_events", new() { ["since"] = 0 })).Json();
        var next = history.GetProperty("next_since").GetInt64();
        var quiet = (await mcp.CallAsync("watch_events", new() { ["since"] = next, ["wait_seconds"] = 1 })).Json();
        var waiting = mcp.CallAsync("watch_events", new() { ["since"] = next, ["wait_seconds"] = 30 });
        await api.JoinAsync(new JoinRequest { AgentId = "w2", Ttl = 60 }, Ct);
        var woken = (await waiting).Json();

        Assert.Contains(history.GetProperty("events").EnumerateArray(), e => e.TryGetProperty("agent_id", out var id) && id.GetString() == "w1");
        Assert.Empty(quiet.GetProperty("events").EnumerateArray());
        Assert.Equal(next, quiet.GetProperty("next_since").GetInt64());
        var first = woken.GetProperty("events").EnumerateArray().First();
        Assert.Equal("w2", first.GetProperty("agent_id").GetString());
        Assert.True(first.GetProperty("revision").GetInt64() > next);
    }

    [Fact]
    public async Task Tail_logs_answers_the_last_lines_an_agent_shipped_with_a_read_key()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var admin = new SessionMeshClient(server.BaseAddress, server.RootKey);
        await admin.JoinAsync(new JoinRequest { AgentId = "logger", Ttl = 60 }, Ct);
        var agentKey = await admin.CreateKeyAsync(new CreateKeyRequest { Scopes = ["agent"], AgentId = "logger", Ttl = 600 }, cancellationToken: Ct);
        using var agent = new SessionMeshClient(server.BaseAddress, agentKey.SessionKey);
        await agent.AppendLogsAsync("logger", new LogAppendRequest
        {
            Lines = [new() { Text = "step 1" }, new() { Text = "step 2" }, new() { Stream = "stderr", Text = "warning: slow disk" }],
        }, Ct);
        var reader = await admin.CreateKeyAsync(new CreateKeyRequest { Scopes = ["read"], Ttl = 600 }, cancellationToken: Ct);
        await using var mcp = await ConnectAsync(server, reader.SessionKey);

        var tail = (await mcp.CallAsync("tail_logs", new() { ["agent_id"] = "logger", ["tail"] = 2 })).Json();
        var all = (await mcp.CallAsync("tail_logs", new() { ["agent_id"] = "logger" })).Json();
        var tooMany = await mcp.CallAsync("tail_logs", new() { ["agent_id"] = "logger", ["tail"] = 5000 });
        var missing = await mcp.CallAsync("tail_logs", new() { ["agent_id"] = "nobody" });

        Assert.Equal("logger", tail.GetProperty("agent_id").GetString());
        var lines = tail.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(["step 2", "warning: slow disk"], lines.Select(l => l.GetProperty("text").GetString()));
        Assert.Equal(["stdout", "stderr"], lines.Select(l => l.GetProperty("stream").GetString()));
        Assert.Equal(3, all.GetProperty("items").GetArrayLength());
        Assert.Equal("validation_failed", tooMany.ErrorCode());
        Assert.Equal("tail", tooMany.StructuredContent!.Value.GetProperty("field").GetString());
        Assert.Equal("agent_not_found", missing.ErrorCode());
    }

    [Fact]
    public async Task Tail_logs_needs_the_read_scope()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var admin = new SessionMeshClient(server.BaseAddress, server.RootKey);
        await admin.JoinAsync(new JoinRequest { AgentId = "logger", Ttl = 60 }, Ct);
        var steerer = await admin.CreateKeyAsync(new CreateKeyRequest { Scopes = ["steer"], Ttl = 600 }, cancellationToken: Ct);
        await using var mcp = await ConnectAsync(server, steerer.SessionKey);

        var tail = await mcp.CallAsync("tail_logs", new() { ["agent_id"] = "logger" });

        Assert.Equal("insufficient_scope", tail.ErrorCode());
        Assert.Contains("'read' scope", tail.Text(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_usage_answers_own_and_rolled_up_usage_against_the_budget_with_the_tree()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var api = new SessionMeshClient(server.BaseAddress, server.RootKey);
        var lead = await api.JoinAsync(new JoinRequest { AgentId = "lead", Ttl = 60, Budget = new AgentBudget { Tokens = 100_000 } }, Ct);
        var helper = await api.JoinAsync(new JoinRequest { AgentId = "helper", ParentId = "lead", Ttl = 60 }, Ct);
        await api.ReportProgressAsync(lead.SessionId, new AgentProgress { Tokens = 10_000, Activity = "planning" }, Ct);
        await api.ReportProgressAsync(helper.SessionId, new AgentProgress { Tokens = 30_000 }, Ct);
        await using var mcp = await ConnectAsync(server, server.RootKey);

        var flat = (await mcp.CallAsync("get_usage", new() { ["agent_id"] = "lead" })).Json();
        var tree = (await mcp.CallAsync("get_usage", new() { ["agent_id"] = "lead", ["tree"] = true })).Json();
        var missing = await mcp.CallAsync("get_usage", new() { ["agent_id"] = "nobody" });

        Assert.Equal(10_000, flat.GetProperty("own").GetProperty("tokens").GetInt64());
        Assert.Equal(40_000, flat.GetProperty("rolled_up").GetProperty("tokens").GetInt64());
        Assert.Equal(100_000, flat.GetProperty("budget").GetProperty("tokens").GetInt64());
        Assert.Equal(60_000, flat.GetProperty("left").GetProperty("tokens").GetInt64());
        Assert.False(flat.TryGetProperty("children", out _));
        var child = Assert.Single(tree.GetProperty("children").EnumerateArray());
        Assert.Equal("helper", child.GetProperty("agent_id").GetString());
        Assert.Equal(30_000, child.GetProperty("own").GetProperty("tokens").GetInt64());
        Assert.Equal("agent_not_found", missing.ErrorCode());
    }

    [Fact]
    public async Task A_stalled_agent_is_listed_as_stalled_and_can_still_be_steered()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await MeshTestServer.StartAsync(time: time);
        using var api = new SessionMeshClient(server.BaseAddress, server.RootKey);
        await api.JoinAsync(new JoinRequest { AgentId = "slow", Ttl = 3600, StallAfter = 60 }, Ct);
        await api.JoinAsync(new JoinRequest { AgentId = "busy", Ttl = 3600 }, Ct);
        time.Advance(TimeSpan.FromSeconds(61));
        await using var mcp = await ConnectAsync(server, server.RootKey);

        var stalled = (await mcp.CallAsync("list_sessions", new() { ["filter"] = "stalled" })).Json();
        var alive = (await mcp.CallAsync("list_sessions", new() { ["filter"] = "alive" })).Json();
        var steered = (await mcp.CallAsync("steer_agent", new() { ["agent_id"] = "slow", ["direction"] = "report progress" })).Json();

        var session = Assert.Single(stalled.GetProperty("items").EnumerateArray());
        Assert.Equal("slow", session.GetProperty("agent_id").GetString());
        Assert.Equal("stalled", session.GetProperty("status").GetString());
        Assert.Equal(["busy", "slow"], alive.GetProperty("items").EnumerateArray().Select(s => s.GetProperty("agent_id").GetString()).Order(StringComparer.Ordinal));
        Assert.Equal("slow", steered.GetProperty("agent_id").GetString());
    }

    [Fact]
    public async Task A_minted_key_works_against_the_api_with_the_scopes_asked_for()
    {
        await using var server = await MeshTestServer.StartAsync();
        await using var mcp = await ConnectAsync(server, server.RootKey);

        var minted = (await mcp.CallAsync("create_session_key", new() { ["scopes"] = new[] { "read" }, ["ttl"] = 600, ["name"] = "sub-agent" })).Json();

        using var api = new SessionMeshClient(server.BaseAddress, minted.GetProperty("session_key").GetString());
        var self = await api.GetSelfKeyAsync(Ct);
        Assert.Equal(["read"], self.Scopes);
        Assert.Equal("sub-agent", self.Name);
    }

    [Fact]
    public async Task A_key_without_the_scope_gets_a_tool_error_naming_the_scope()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var admin = new SessionMeshClient(server.BaseAddress, server.RootKey);
        await admin.JoinAsync(new JoinRequest { AgentId = "123", Ttl = 60 }, Ct);
        var reader = await admin.CreateKeyAsync(new CreateKeyRequest { Scopes = ["read"], Ttl = 600 }, cancellationToken: Ct);
        await using var mcp = await ConnectAsync(server, reader.SessionKey);

        var steer = await mcp.CallAsync("steer_agent", new() { ["agent_id"] = "123", ["direction"] = "west" });
        var kill = await mcp.CallAsync("kill_agent", new() { ["agent_id"] = "123" });
        var list = await mcp.CallAsync("list_sessions");

        Assert.Equal("insufficient_scope", steer.ErrorCode());
        Assert.Contains("'steer' scope", steer.Text(), StringComparison.Ordinal);
        Assert.Contains("keys create", steer.Text(), StringComparison.Ordinal);
        Assert.Equal("insufficient_scope", kill.ErrorCode());
        Assert.Contains("'kill' scope", kill.Text(), StringComparison.Ordinal);
        Assert.Single(list.Json().GetProperty("items").EnumerateArray());
        var agent = await admin.GetAgentAsync("123", Ct);
        Assert.True(agent.Alive);
    }

    [Fact]
    public async Task Refusals_come_back_as_tool_errors_with_the_api_code_and_what_to_do()
    {
        await using var server = await MeshTestServer.StartAsync();
        await using var mcp = await ConnectAsync(server, server.RootKey);

        var missing = await mcp.CallAsync("get_agent", new() { ["agent_id"] = "nobody" });
        var offline = await mcp.CallAsync("steer_agent", new() { ["agent_id"] = "nobody", ["direction"] = "west" });
        var invalid = await mcp.CallAsync("list_sessions", new() { ["filter"] = "sideways" });
        var badWait = await mcp.CallAsync("watch_events", new() { ["wait_seconds"] = 9999 });

        Assert.Equal("agent_not_found", missing.ErrorCode());
        Assert.Contains("list_sessions", missing.Text(), StringComparison.Ordinal);
        Assert.Equal("agent_not_found", offline.ErrorCode());
        Assert.Equal("validation_failed", invalid.ErrorCode());
        Assert.Equal("filter", invalid.StructuredContent!.Value.GetProperty("field").GetString());
        Assert.Equal("validation_failed", badWait.ErrorCode());
        Assert.Contains("'wait_seconds'", badWait.Text(), StringComparison.Ordinal);
        // The server is still there after the refusals.
        Assert.Empty((await mcp.CallAsync("list_sessions")).Json().GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task Bad_arguments_are_validation_errors_naming_the_argument()
    {
        await using var server = await MeshTestServer.StartAsync();
        await using var mcp = await ConnectAsync(server, server.RootKey);

        var wrongType = await mcp.CallAsync("kill_agent", new() { ["agent_id"] = "a", ["force"] = "yes" });
        var unknown = await mcp.CallAsync("list_sessions", new() { ["fitler"] = "alive" });
        var missing = await mcp.CallAsync("steer_agent", new() { ["agent_id"] = "a" });

        Assert.Equal("validation_failed", wrongType.ErrorCode());
        Assert.Equal("force", wrongType.StructuredContent!.Value.GetProperty("field").GetString());
        Assert.Contains("'force' must be boolean, not a string", wrongType.Text(), StringComparison.Ordinal);
        Assert.Equal("validation_failed", unknown.ErrorCode());
        Assert.Contains("'fitler' is not an argument", unknown.Text(), StringComparison.Ordinal);
        Assert.Equal("validation_failed", missing.ErrorCode());
        Assert.Contains("direction", missing.Text(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Agents_and_sessions_are_resources()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var api = new SessionMeshClient(server.BaseAddress, server.RootKey);
        var session = await api.JoinAsync(new JoinRequest { AgentId = "res-1", Ttl = 60 }, Ct);
        await using var mcp = await ConnectAsync(server, server.RootKey);

        var templates = await mcp.ListResourceTemplatesAsync(cancellationToken: Ct);
        var agent = await mcp.ReadResourceAsync("mesh://agents/res-1", cancellationToken: Ct);
        var read = await mcp.ReadResourceAsync($"mesh://sessions/{session.SessionId}", cancellationToken: Ct);

        Assert.Equal(["mesh://agents/{agent_id}", "mesh://sessions/{session_id}"], templates.Select(t => t.UriTemplate).Order(StringComparer.Ordinal));
        var agentJson = JsonDocument.Parse(Assert.IsType<ModelContextProtocol.Protocol.TextResourceContents>(Assert.Single(agent.Contents)).Text).RootElement;
        Assert.Equal("res-1", agentJson.GetProperty("agent_id").GetString());
        Assert.True(agentJson.GetProperty("alive").GetBoolean());
        var sessionJson = JsonDocument.Parse(Assert.IsType<ModelContextProtocol.Protocol.TextResourceContents>(Assert.Single(read.Contents)).Text).RootElement;
        Assert.Equal(session.SessionId, sessionJson.GetProperty("session_id").GetString());
        await Assert.ThrowsAsync<ModelContextProtocol.McpProtocolException>(async () => await mcp.ReadResourceAsync("mesh://agents/nobody", cancellationToken: Ct));
    }
}
