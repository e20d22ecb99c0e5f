using System.Text.Json;
using SessionMesh.Client;
using SessionMesh.Contracts;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Cli;

/// <summary>
/// Every CLI line of the seed, run as a user runs it — the built `session-mesh` as a child process, the key
/// in SESSION_API_KEY — against a real mesh server.
/// </summary>
public sealed class SeedCommandTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static SessionMeshClient Sdk(MeshTestServer server) => new(server.BaseAddress, server.RootKey);

    /// <summary>The server is being built alongside the CLI: skip, saying so, while an endpoint does not exist yet.</summary>

    [Fact]
    public async Task Steer_agent_id_123_direction_west()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var sdk = Sdk(server);
        await sdk.JoinAsync(new JoinRequest { AgentId = "123" }, Ct);
        using var cli = new CliHarness().WithServer(server.BaseAddress, server.RootKey);

        var run = (await cli.RunProcessAsync("steer", "--agent-id", "123", "--direction", "west")).Expect(0);

        using var json = JsonDocument.Parse(run.Out);
        Assert.Equal("123", json.RootElement.GetProperty("agent_id").GetString());
        Assert.Equal("west", json.RootElement.GetProperty("direction").GetString());
        Assert.Contains(json.RootElement.GetProperty("status").GetString(), new[] { "queued", "delivered" });
        var command = await sdk.GetCommandAsync(json.RootElement.GetProperty("command_id").GetString()!, Ct);
        Assert.Equal("steer", command.Kind);
    }

    [Fact]
    public async Task Steer_an_agent_that_is_not_alive_is_a_conflict_and_an_unknown_one_is_not_found()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var sdk = Sdk(server);
        await sdk.RegisterAsync(new RegisterRequest { AgentId = "declared", Specialization = "x" }, Ct);
        using var cli = new CliHarness().WithServer(server.BaseAddress, server.RootKey);

        (await cli.RunProcessAsync("steer", "--agent-id", "declared", "--direction", "west")).Expect(5);
        (await cli.RunProcessAsync("steer", "--agent-id", "nobody", "--direction", "west")).Expect(3);
        (await cli.RunProcessAsync("steer", "--agent-id", "declared", "--direction", "west", "--queue")).Expect(0);
    }

    [Fact]
    public async Task Kill_agent_id_456_force_kills_the_agent_and_its_sub_agents()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var sdk = Sdk(server);
        await sdk.JoinAsync(new JoinRequest { AgentId = "456" }, Ct);
        await sdk.JoinAsync(new JoinRequest { AgentId = "457", ParentId = "456" }, Ct);
        using var cli = new CliHarness().WithServer(server.BaseAddress, server.RootKey);

        var run = (await cli.RunProcessAsync("kill", "--agent-id", "456", "--force")).Expect(0);

        using var json = JsonDocument.Parse(run.Out);
        Assert.Equal(["456", "457"], json.RootElement.GetProperty("killed").EnumerateArray().Select(k => k.GetProperty("agent_id").GetString()).Order());
        Assert.Empty((await sdk.ListAliveAsync(cancellationToken: Ct)).Items);
    }

    [Fact]
    public async Task List_filter_alive_output_json()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var sdk = Sdk(server);
        await sdk.JoinAsync(new JoinRequest { AgentId = "123", Ttl = 60 }, Ct);
        using var cli = new CliHarness().WithServer(server.BaseAddress, server.RootKey);

        var run = (await cli.RunProcessAsync("list", "--filter", "alive", "--output", "json")).Expect(0);

        using var json = JsonDocument.Parse(run.Out);
        var item = Assert.Single(json.RootElement.GetProperty("items").EnumerateArray());
        Assert.Equal("123", item.GetProperty("agent_id").GetString());
        Assert.Equal("active", item.GetProperty("status").GetString());
        Assert.Equal(60, item.GetProperty("ttl").GetInt32());
        Assert.Empty(run.Error);
    }

    [Fact]
    public async Task List_filter_alive_verbose_logs_to_stderr_only()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var cli = new CliHarness().WithServer(server.BaseAddress, server.RootKey);

        var run = (await cli.RunProcessAsync("list", "--filter", "alive", "--verbose")).Expect(0);

        Assert.Contains("[verbose] GET ", run.Error, StringComparison.Ordinal);
        Assert.Contains("-> 200", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(server.RootKey, run.Error, StringComparison.Ordinal);
        Assert.Equal(0, JsonDocument.Parse(run.Out).RootElement.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task Register_spec_data_analysis_agent_id_789()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var cli = new CliHarness().WithServer(server.BaseAddress, server.RootKey);

        var first = (await cli.RunProcessAsync("register", "--spec", "data-analysis", "--agent-id", "789")).Expect(0);
        var again = (await cli.RunProcessAsync("register", "--spec", "data-analysis", "--agent-id", "789", "--output", "table")).Expect(0);

        using var json = JsonDocument.Parse(first.Out);
        Assert.Equal("789", json.RootElement.GetProperty("agent_id").GetString());
        Assert.Equal("data-analysis", json.RootElement.GetProperty("specialization").GetString());
        Assert.Contains("already registered", again.Out, StringComparison.Ordinal);
        var updated = (await cli.RunProcessAsync("register", "--spec", "data-analysis", "--agent-id", "789", "--description", "tables", "--output", "table")).Expect(0);
        Assert.Contains("Updated the registration of agent 789", updated.Out, StringComparison.Ordinal);
        using var sdk = Sdk(server);
        Assert.Equal("789", Assert.Single((await sdk.ListRegistryAsync("data-analysis", cancellationToken: Ct)).Items).AgentId);
    }

    [Fact]
    public async Task Register_config_spec_yaml()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var cli = new CliHarness().WithServer(server.BaseAddress, server.RootKey);
        var file = cli.WriteFile("spec.yaml", "spec: data-analysis\nagent-id: 789\ndescription: numbers\ntags: [batch]\n");

        (await cli.RunProcessAsync("register", "--config", file)).Expect(0);

        using var sdk = Sdk(server);
        var entry = Assert.Single((await sdk.ListRegistryAsync("data-analysis", cancellationToken: Ct)).Items);
        Assert.Equal(("789", "numbers"), (entry.AgentId, entry.Description));
        Assert.Equal(["batch"], entry.Tags);
    }

    [Fact]
    public async Task Load_config_of_the_seed_example_applies_and_is_idempotent()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var cli = new CliHarness().WithServer(server.BaseAddress, server.RootKey);
        cli.WriteFile("path/to/config.yaml", "sessions:\n  - id: 123\n  - filter: alive\n");

        var first = (await cli.RunProcessAsync("load-config", "path/to/config.yaml")).Expect(0);
        var second = (await cli.RunProcessAsync("load-config", "path/to/config.yaml")).Expect(0);

        var changes = JsonDocument.Parse(second.Out).RootElement.GetProperty("actions").EnumerateArray()
            .ToDictionary(a => a.GetProperty("kind").GetString()!, a => a.GetProperty("change").GetString());
        Assert.Equal("unchanged", changes["agent"]);
        Assert.Contains("\"create\"", first.Out, StringComparison.Ordinal);
        Assert.Equal("unchanged", changes["list_filter"]);
        Assert.Contains("\"update\"", first.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Load_config_registers_agents_mints_keys_once()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var cli = new CliHarness().WithServer(server.BaseAddress, server.RootKey);
        var file = cli.WriteFile("fleet.yaml", """
            sessions:
              - id: planner
                specializations: [planning]
              - id: worker-1
                parent: planner
                specializations:
                  - name: image-processing
                    tags: [gpu]
                labels: {zone: eu}
            keys:
              - name: ci-reader
                scopes: [read]
                ttl: 3600
            """);

        var first = (await cli.RunProcessAsync("load-config", file)).Expect(0);
        var second = (await cli.RunProcessAsync("load-config", file)).Expect(0);

        var minted = JsonDocument.Parse(first.Out).RootElement.GetProperty("minted_keys");
        Assert.Equal("ci-reader", Assert.Single(minted.EnumerateArray()).GetProperty("name").GetString());
        var secondRun = JsonDocument.Parse(second.Out).RootElement;
        Assert.Equal(0, secondRun.GetProperty("minted_keys").GetArrayLength());
        Assert.DoesNotContain(secondRun.GetProperty("actions").EnumerateArray(),
            a => a.GetProperty("change").GetString() is "create" or "update");
        using var sdk = Sdk(server);
        var worker = await sdk.GetAgentAsync("worker-1", Ct);
        Assert.Equal(["gpu"], Assert.Single(worker.Specializations).Tags);
        Assert.Equal("planner", worker.ParentId);
        Assert.Equal("eu", worker.Labels["zone"]);
    }

    [Fact]
    public async Task Kill_agent_id_456_force_on_an_unknown_agent_is_a_404_line()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var cli = new CliHarness().WithServer(server.BaseAddress, server.RootKey);

        var run = (await cli.RunProcessAsync("kill", "--agent-id", "456", "--force")).Expect(3);

        var line = Assert.Single(run.Error.TrimEnd().Split('\n'));
        Assert.Contains("agent_not_found", line, StringComparison.Ordinal);
        Assert.Contains("session-mesh list --filter all", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Kill_without_force_and_without_a_terminal_refuses()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var sdk = Sdk(server);
        await sdk.JoinAsync(new JoinRequest { AgentId = "456" }, Ct);
        using var cli = new CliHarness().WithServer(server.BaseAddress, server.RootKey);

        var run = (await cli.RunProcessAsync("kill", "--agent-id", "456")).Expect(2);

        Assert.Contains("refusing to kill agent 456 without confirmation: standard input is not a terminal", run.Error, StringComparison.Ordinal);
        Assert.True((await sdk.GetAgentAsync("456", Ct)).Alive);
    }

    [Fact]
    public async Task A_missing_key_and_a_refused_key_each_get_one_line_and_exit_4()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var missing = new CliHarness().WithServer(server.BaseAddress, null);
        using var wrong = new CliHarness().WithServer(server.BaseAddress, "sm_nope.not-a-real-key");

        var noKey = (await missing.RunProcessAsync("list", "--filter", "alive", "--output", "json")).Expect(4);
        var badKey = (await wrong.RunProcessAsync("list", "--filter", "alive", "--output", "json")).Expect(4);

        Assert.Single(noKey.Error.TrimEnd().Split('\n'));
        Assert.Contains("SESSION_API_KEY is not set", noKey.Error, StringComparison.Ordinal);
        Assert.Single(badKey.Error.TrimEnd().Split('\n'));
        Assert.Contains("(401 ", badKey.Error, StringComparison.Ordinal);
        Assert.Empty(badKey.Out);
    }

    [Fact]
    public async Task Keys_create_then_use_then_revoke()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var root = new CliHarness().WithServer(server.BaseAddress, server.RootKey);

        var created = JsonDocument.Parse((await root.RunProcessAsync("keys", "create", "--scope", "read", "--ttl", "600", "--name", "ops")).Expect(0).Out).RootElement;
        using var reader = new CliHarness().WithServer(server.BaseAddress, created.GetProperty("session_key").GetString());
        var self = JsonDocument.Parse((await reader.RunProcessAsync("keys", "self")).Expect(0).Out).RootElement;
        var forbidden = (await reader.RunProcessAsync("register", "--spec", "x", "--agent-id", "y")).Expect(4);
        (await root.RunProcessAsync("keys", "revoke", created.GetProperty("key_id").GetString()!)).Expect(0);
        var listed = JsonDocument.Parse((await root.RunProcessAsync("keys", "list")).Expect(0).Out).RootElement;

        Assert.Equal("ops", self.GetProperty("name").GetString());
        Assert.Contains("insufficient_scope", forbidden.Error, StringComparison.Ordinal);
        Assert.Contains(listed.GetProperty("items").EnumerateArray(), k => k.GetProperty("name").GetString() == "ops" && k.GetProperty("state").GetString() == "revoked");
        Assert.DoesNotContain("session_key", listed.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Topology_json_and_tree()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var sdk = Sdk(server);
        await sdk.JoinAsync(new JoinRequest { AgentId = "boss" }, Ct);
        await sdk.JoinAsync(new JoinRequest { AgentId = "minion", ParentId = "boss" }, Ct);
        using var cli = new CliHarness().WithServer(server.BaseAddress, server.RootKey);

        var json = JsonDocument.Parse((await cli.RunProcessAsync("topology", "--format", "json")).Expect(0).Out).RootElement;
        var tree = (await cli.RunProcessAsync("topology", "--format", "tree")).Expect(0);

        Assert.Contains(json.GetProperty("edges").EnumerateArray(), e => e.GetProperty("from").GetString() == "boss" && e.GetProperty("to").GetString() == "minion");
        Assert.StartsWith("boss active", tree.Out, StringComparison.Ordinal);
        Assert.Contains("└── minion active", tree.Out, StringComparison.Ordinal);
    }
}
