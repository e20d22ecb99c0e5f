using System.Text.Json;
using SessionMesh.Client;
using SessionMesh.Contracts;
using SessionMesh.Model;
using SessionMesh.Tests.Infrastructure;
using YamlDotNet.RepresentationModel;

namespace SessionMesh.Tests.Cli;

/// <summary>get, registry, message, commands, command get, audit and the yaml/wide outputs, against a real server.</summary>
public sealed class CliOperatorCommandsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<(MeshTestServer Server, SessionMeshClient Sdk, CliHarness Cli)> StartAsync()
    {
        var server = await MeshTestServer.StartAsync();
        var sdk = new SessionMeshClient(server.BaseAddress, server.RootKey);
        await sdk.JoinAsync(new JoinRequest { AgentId = "123", Ttl = 120, Labels = new() { ["zone"] = "eu" } }, Ct);
        await sdk.JoinAsync(new JoinRequest { AgentId = "124", ParentId = "123", Ttl = 120 }, Ct);
        await sdk.RegisterAsync(new RegisterRequest { AgentId = "123", Specialization = "image-processing", Description = "resizes", Tags = ["gpu"] }, Ct);
        await sdk.RegisterAsync(new RegisterRequest { AgentId = "900", Specialization = "image-processing" }, Ct);
        return (server, sdk, new CliHarness().WithServer(server.BaseAddress, server.RootKey));
    }

    [Fact]
    public async Task Get_agent_describes_it_with_children_and_specializations()
    {
        var (server, sdk, cli) = await StartAsync();
        await using var _ = server;
        using var __ = sdk;
        using var ___ = cli;

        var table = (await cli.RunAsync(["get", "agent", "123"], terminal: true)).Expect(0);
        Assert.Matches(@"Agent:\s+123", table.Out);
        Assert.Matches(@"Labels:\s+zone=eu", table.Out);
        Assert.Contains("Specializations:\n  image-processing  [gpu]  resizes", table.Out, StringComparison.Ordinal);
        Assert.Contains("Children:\n  124", table.Out, StringComparison.Ordinal);

        using var json = JsonDocument.Parse((await cli.RunAsync("get", "agent", "123")).Expect(0).Out);
        Assert.Equal("124", json.RootElement.GetProperty("children")[0].GetString());
        (await cli.RunAsync("get", "agent", "nobody")).Expect(3);
    }

    [Fact]
    public async Task Get_session_command_and_key()
    {
        var (server, sdk, cli) = await StartAsync();
        await using var _ = server;
        using var __ = sdk;
        using var ___ = cli;
        var session = (await sdk.GetAgentAsync("123", Ct)).Session!;
        var steered = await sdk.SteerAsync(new SteerRequest { AgentId = "123", Direction = "west" }, cancellationToken: Ct);
        var self = await sdk.GetSelfKeyAsync(Ct);
        var minted = await sdk.CreateKeyAsync(new CreateKeyRequest { Scopes = ["read"], Name = "ops" }, cancellationToken: Ct);

        Assert.Matches(@"Status:\s+active", (await cli.RunAsync(["get", "session", session.SessionId], terminal: true)).Expect(0).Out);
        Assert.Matches(@"What:\s+west", (await cli.RunAsync(["get", "command", steered.CommandId], terminal: true)).Expect(0).Out);
        Assert.Matches($@"Key ID:\s+{self.KeyId}", (await cli.RunAsync(["get", "key", self.KeyId], terminal: true)).Expect(0).Out);
        Assert.Matches(@"Name:\s+ops", (await cli.RunAsync(["get", "key", minted.KeyId], terminal: true)).Expect(0).Out);
        (await cli.RunAsync("get", "key", "key_nope")).Expect(3);
        (await cli.RunAsync("get", "command", "cmd_nope")).Expect(3);
    }

    [Fact]
    public async Task Registry_find_alive_and_registry_list()
    {
        var (server, sdk, cli) = await StartAsync();
        await using var _ = server;
        using var __ = sdk;
        using var ___ = cli;

        using var all = JsonDocument.Parse((await cli.RunAsync("registry", "find", "image-processing")).Expect(0).Out);
        Assert.Equal(["123", "900"], all.RootElement.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("agent_id").GetString()));
        using var alive = JsonDocument.Parse((await cli.RunAsync("registry", "find", "image-processing", "--alive")).Expect(0).Out);
        Assert.Equal(["123"], alive.RootElement.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("agent_id").GetString()));

        var list = (await cli.RunAsync(["registry", "list"], terminal: true)).Expect(0);
        Assert.Matches(@"image-processing\s+2\s+1", list.Out);
    }

    [Fact]
    public async Task Message_then_commands_then_command_get_wait()
    {
        var (server, sdk, cli) = await StartAsync();
        await using var _ = server;
        using var __ = sdk;
        using var ___ = cli;

        using var sent = JsonDocument.Parse((await cli.RunAsync("message", "--agent-id", "123", "--text", "summarise", "--from", "124")).Expect(0).Out);
        var commandId = sent.RootElement.GetProperty("command_id").GetString()!;
        Assert.Equal("message", sent.RootElement.GetProperty("kind").GetString());
        await sdk.SteerAsync(new SteerRequest { AgentId = "123", Direction = "west" }, cancellationToken: Ct);

        var listed = (await cli.RunAsync(["commands", "--agent-id", "123"], terminal: true)).Expect(0);
        Assert.Matches(@"steer\s+\S+\s+.*west", listed.Out);
        Assert.Matches($@"{commandId}\s+message\s+\S+\s+.*summarise", listed.Out);
        (await cli.RunAsync("commands", "--agent-id", "nobody")).Expect(3);

        var waiting = cli.RunAsync("command", "get", commandId, "--wait", "--timeout", "30");
        await sdk.AckAsync("123", commandId, new AckRequest { Status = "acked" }, Ct);
        using var done = JsonDocument.Parse((await waiting.WaitAsync(TestTimeouts.Request, Ct)).Expect(0).Out);
        Assert.Equal("acked", done.RootElement.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Audit_lists_who_did_what()
    {
        var (server, sdk, cli) = await StartAsync();
        await using var _ = server;
        using var __ = sdk;
        using var ___ = cli;
        var self = await sdk.GetSelfKeyAsync(Ct);

        using var json = JsonDocument.Parse((await cli.RunAsync("audit", "--limit", "2")).Expect(0).Out);
        var items = json.RootElement.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(2, items.Count);
        Assert.All(items, item => Assert.Equal(self.KeyId, item.GetProperty("key_id").GetString()));
        Assert.Matches(@"POST\s+/api/session-mesh/registry\s+20\d", (await cli.RunAsync(["audit"], terminal: true)).Expect(0).Out);
    }

    [Fact]
    public async Task List_and_get_agent_show_reported_progress()
    {
        var (server, sdk, cli) = await StartAsync();
        await using var _ = server;
        using var __ = sdk;
        using var ___ = cli;
        Assert.DoesNotContain("PROGRESS", (await cli.RunAsync(["list"], terminal: true)).Expect(0).Out, StringComparison.Ordinal);

        var session = (await sdk.GetAgentAsync("123", Ct)).Session!;
        await sdk.ReportProgressAsync(session.SessionId, new AgentProgress { Tokens = 12_400, ToolCalls = 31, CostUsd = 0.42, Activity = "running tests" }, Ct);

        var list = (await cli.RunAsync(["list"], terminal: true)).Expect(0).Out;
        Assert.Contains("PROGRESS", list, StringComparison.Ordinal);
        Assert.Contains("running tests · 12.4k tokens, 31 tool calls, $0.42", list, StringComparison.Ordinal);
        var agent = (await cli.RunAsync(["get", "agent", "123"], terminal: true)).Expect(0).Out;
        Assert.Contains("running tests · 12.4k tokens", agent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Usage_shows_own_and_rolled_up_usage_against_the_budget()
    {
        var (server, sdk, cli) = await StartAsync();
        await using var _ = server;
        using var __ = sdk;
        using var ___ = cli;
        var lead = await sdk.JoinAsync(new JoinRequest { AgentId = "lead", Ttl = 120, Budget = new AgentBudget { Tokens = 1000 } }, Ct);
        var helper = await sdk.JoinAsync(new JoinRequest { AgentId = "helper", ParentId = "lead", Ttl = 120 }, Ct);
        await sdk.ReportProgressAsync(lead.SessionId, new AgentProgress { Tokens = 100 }, Ct);
        await sdk.ReportProgressAsync(helper.SessionId, new AgentProgress { Tokens = 250 }, Ct);

        var table = (await cli.RunAsync(["usage", "--agent-id", "lead", "--tree"], terminal: true)).Expect(0).Out;
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(table, @"lead\s+active\s+100 tokens\s+350 tokens\s+1000 tokens\s+650 tokens\s+35%"), table);
        Assert.Matches(@"\s+helper\s+active\s+250 tokens\s+250 tokens", table);
        using var json = JsonDocument.Parse((await cli.RunAsync("usage", "--agent-id", "lead", "--output", "json")).Expect(0).Out);
        Assert.Equal(350, json.RootElement.GetProperty("rolled_up").GetProperty("tokens").GetInt64());
        (await cli.RunAsync("usage", "--agent-id", "nobody")).Expect(3);
    }

    [Fact]
    public async Task Output_yaml_has_the_api_field_names_and_wide_adds_columns()
    {
        var (server, sdk, cli) = await StartAsync();
        await using var _ = server;
        using var __ = sdk;
        using var ___ = cli;

        var yaml = (await cli.RunAsync("list", "--output", "yaml")).Expect(0).Out;
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        var items = (YamlSequenceNode)((YamlMappingNode)stream.Documents[0].RootNode)["items"];
        var ids = items.Children.Select(i => ((YamlScalarNode)((YamlMappingNode)i)["agent_id"])).ToList();
        Assert.Equal(["123", "124"], ids.Select(s => s.Value));
        // "123" stays a string: quoted, not read back as a number.
        Assert.All(ids, id => Assert.Equal(YamlDotNet.Core.ScalarStyle.DoubleQuoted, id.Style));

        var wide = (await cli.RunAsync("list", "--output", "wide")).Expect(0).Out;
        Assert.Contains("LABELS", wide, StringComparison.Ordinal);
        Assert.Contains("zone=eu", wide, StringComparison.Ordinal);
        Assert.DoesNotContain("LABELS", (await cli.RunAsync(["list"], terminal: true)).Expect(0).Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task List_tree_piped_stays_a_tree_unless_json_is_asked_for()
    {
        var (server, sdk, cli) = await StartAsync();
        await using var _ = server;
        using var __ = sdk;
        using var ___ = cli;

        var piped = (await cli.RunAsync("list", "--tree")).Expect(0).Out;
        Assert.Contains("123", piped, StringComparison.Ordinal);
        Assert.Contains("└── 124", piped, StringComparison.Ordinal);
        using var json = JsonDocument.Parse((await cli.RunAsync("list", "--tree", "--output", "json")).Expect(0).Out);
        Assert.Equal(2, json.RootElement.GetProperty("items").GetArrayLength());
    }
}
