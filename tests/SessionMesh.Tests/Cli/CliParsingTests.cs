using SessionMesh.Cli;
using SessionMesh.Cli.Commands;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Cli;

public sealed class CliParsingTests
{
    public static TheoryData<string[]> Commands => new()
    {
        new[] { "--help" }, new[] { "list", "--help" }, new[] { "steer", "--help" }, new[] { "kill", "--help" },
        new[] { "register", "--help" }, new[] { "unregister", "--help" }, new[] { "load-config", "--help" },
        new[] { "keys", "--help" }, new[] { "keys", "create", "--help" }, new[] { "keys", "list", "--help" },
        new[] { "keys", "revoke", "--help" }, new[] { "keys", "self", "--help" }, new[] { "keys", "rotate", "--help" },
        new[] { "topology", "--help" }, new[] { "watch", "--help" }, new[] { "serve", "--help" }, new[] { "completion", "--help" },
    };

    [Theory]
    [MemberData(nameof(Commands))]
    public async Task Every_command_has_help_with_an_example(string[] args)
    {
        using var cli = new CliHarness();

        var run = (await cli.RunAsync(args)).Expect(0);

        Assert.Contains("Usage:", run.Out, StringComparison.Ordinal);
        var examples = run.Out[run.Out.IndexOf("Examples:", StringComparison.Ordinal)..];
        Assert.Contains("session-mesh ", examples, StringComparison.Ordinal);
        var command = args.TakeWhile(a => a != "--help").ToArray();
        if (command.Length > 0)
        {
            Assert.Contains($"session-mesh {string.Join(' ', command)}", examples, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("steer", "--agent-id", "1")]
    [InlineData("list", "--filter", "sideways")]
    [InlineData("list", "--label", "novalue")]
    [InlineData("kill")]
    [InlineData("frobnicate")]
    [InlineData("list", "--output", "xml")]
    [InlineData("steer", "--agent-id", "1", "--direction", "n", "--payload", "{not json")]
    public async Task Usage_errors_exit_2_with_a_pointer_to_help(params string[] args)
    {
        using var cli = new CliHarness();

        var run = (await cli.RunAsync(args)).Expect(2);

        Assert.Contains("--help' for usage and examples.", run.Error, StringComparison.Ordinal);
        Assert.Empty(run.Out);
    }

    [Fact]
    public async Task No_command_prints_help_and_exits_2()
    {
        using var cli = new CliHarness();

        var run = (await cli.RunAsync()).Expect(2);

        Assert.Contains("Commands:", run.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_key_is_one_line_saying_what_to_do()
    {
        using var cli = new CliHarness();

        var run = (await cli.RunAsync("list", "--filter", "alive", "--output", "json")).Expect(4);

        var line = Assert.Single(run.Error.TrimEnd().Split('\n'));
        Assert.Contains("SESSION_API_KEY is not set", line, StringComparison.Ordinal);
        Assert.Contains("export SESSION_API_KEY=", line, StringComparison.Ordinal);
        Assert.Empty(run.Out);
    }

    [Fact]
    public async Task A_bad_server_url_is_a_usage_error()
    {
        using var cli = new CliHarness();
        cli.With("SESSION_API_KEY", "k");

        var run = (await cli.RunAsync("list", "--server", "ftp://x")).Expect(2);

        Assert.Contains("is not an http(s) URL", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_url_in_a_list_of_replicas_is_named()
    {
        using var cli = new CliHarness();
        cli.With("SESSION_API_KEY", "k");

        var run = (await cli.RunAsync("list", "--server", "http://10.0.0.1:7780, 10.0.0.2:7780")).Expect(2);

        Assert.Contains("--server '10.0.0.2:7780' is not an http(s) URL, e.g. http://10.0.0.1:7780,http://10.0.0.2:7780", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Replicas_given_comma_separated_are_tried_in_turn()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var dead = $"http://127.0.0.1:{((System.Net.IPEndPoint)listener.LocalEndpoint).Port}";
        listener.Stop();
        using var sdk = new SessionMesh.Client.SessionMeshClient(server.BaseAddress, server.RootKey);
        await sdk.JoinAsync(new SessionMesh.Contracts.JoinRequest { AgentId = "a1" }, TestContext.Current.CancellationToken);
        using var cli = new CliHarness();
        cli.With("SESSION_API_KEY", server.RootKey);

        var run = (await cli.RunAsync("list", "--server", $"{dead},{server.BaseAddress}", "--output", "json")).Expect(0);

        Assert.Contains("\"agent_id\": \"a1\"", run.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void Serve_flags_map_onto_serve_settings()
    {
        var parse = CliApp.Parse(
            ["serve", "--listen", "http://127.0.0.1:0", "--store", "sqlite:./x.db", "--data-dir", "/tmp/d", "--log-format", "json", "--sandbox", "--faults", "5xx=0.1", "--Server:RootKey=abc"],
            new CliHarnessConsole().Console);

        var settings = ServeCommand.ToSettings(parse);

        Assert.Empty(parse.Errors);
        Assert.Equal("http://127.0.0.1:0", settings.Listen);
        Assert.Equal("sqlite:./x.db", settings.Store);
        Assert.Equal("/tmp/d", settings.DataDir);
        Assert.True(settings.JsonLogs);
        Assert.True(settings.Sandbox);
        Assert.Equal("5xx=0.1", settings.Faults);
        Assert.Equal(["--Server:RootKey=abc"], settings.ConfigurationArgs);
    }

    [Fact]
    public async Task Faults_without_sandbox_are_refused()
    {
        using var cli = new CliHarness();

        var run = (await cli.RunAsync("serve", "--faults", "5xx=0.5")).Expect(2);

        Assert.Contains("--faults needs --sandbox", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Completion_prints_a_script_using_the_suggest_directive()
    {
        using var cli = new CliHarness();

        var run = (await cli.RunAsync("completion", "bash")).Expect(0);

        Assert.Contains("complete -o default -F _session_mesh_complete session-mesh", run.Out, StringComparison.Ordinal);
        Assert.Contains("[suggest:", run.Out, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("fish", "complete -c session-mesh")]
    [InlineData("powershell", "Register-ArgumentCompleter -Native -CommandName session-mesh")]
    public async Task Completion_scripts_for_fish_and_powershell_use_the_suggest_directive(string shell, string hook)
    {
        using var cli = new CliHarness();

        var run = (await cli.RunAsync("completion", shell)).Expect(0);

        Assert.Contains(hook, run.Out, StringComparison.Ordinal);
        Assert.Contains("[suggest:", run.Out, StringComparison.Ordinal);
    }

    private sealed class CliHarnessConsole
    {
        public CliConsole Console { get; } = new()
        {
            Out = TextWriter.Null,
            Error = TextWriter.Null,
            In = TextReader.Null,
            GetEnvironmentVariable = _ => null,
        };
    }
}
