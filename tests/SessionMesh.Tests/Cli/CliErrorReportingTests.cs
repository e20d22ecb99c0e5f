using System.Net;
using Microsoft.AspNetCore.Http;
using System.Net.Sockets;
using SessionMesh.Client;
using SessionMesh.Contracts;
using SessionMesh.Tests.Client;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Cli;

/// <summary>Mistakes and failures each end as one line that names the real cause: typos, broken YAML, wrong servers, busy ports.</summary>
public sealed class CliErrorReportingTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("--listne", "--listen")]
    [InlineData("--data-dri", "--data-dir")]
    [InlineData("--sandbx", "--sandbox")]
    public async Task A_misspelt_serve_flag_is_a_usage_error_with_a_suggestion_not_a_server(string typo, string meant)
    {
        using var cli = new CliHarness();

        var run = (await cli.RunAsync("serve", typo, "x")).Expect(2);

        Assert.Contains($"unknown option '{typo}'", run.Error, StringComparison.Ordinal);
        Assert.Contains($"Did you mean '{meant}'?", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("listening", run.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_keeps_configuration_keys_in_their_documented_form()
    {
        Assert.True(SessionMesh.Cli.Commands.ServeCommand.IsConfigurationArgument("--Mesh:DefaultSessionTtl=30"));
        Assert.True(SessionMesh.Cli.Commands.ServeCommand.IsConfigurationArgument("--Server:Section:Key=value"));
        Assert.False(SessionMesh.Cli.Commands.ServeCommand.IsConfigurationArgument("--Mesh:DefaultSessionTtl"));
        Assert.False(SessionMesh.Cli.Commands.ServeCommand.IsConfigurationArgument("--sandbx"));
        using var cli = new CliHarness();
        var run = (await cli.RunAsync("serve", "--Mesh:DefaultSessionTtl", "30")).Expect(2);
        Assert.Contains("--Section:Key=value", run.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "lsit" }, "Did you mean 'list'?")]
    [InlineData(new[] { "list", "--fitler", "alive" }, "Did you mean '--filter'?")]
    [InlineData(new[] { "keys", "craete" }, "Did you mean 'create'?")]
    [InlineData(new[] { "steer", "--agent-id", "1", "--direction", "w", "--wiat" }, "Did you mean '--wait'?")]
    [InlineData(new[] { "regsitry", "find", "x" }, "Did you mean 'registry'?")]
    public async Task A_mistyped_command_or_flag_gets_did_you_mean(string[] args, string suggestion)
    {
        using var cli = new CliHarness();

        var run = (await cli.RunAsync(args)).Expect(2);

        Assert.Contains(suggestion, run.Error, StringComparison.Ordinal);
        // The unknown flag's value is not reported as a second mistake.
        Assert.DoesNotContain("'alive'", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_help_lists_only_server_options()
    {
        using var cli = new CliHarness();

        var run = (await cli.RunAsync("serve", "--help")).Expect(0);

        Assert.Contains("--listen", run.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("--server", run.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("--output", run.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("--cluster", run.Out, StringComparison.Ordinal);
        Assert.Contains("--server", (await cli.RunAsync("list", "--help")).Expect(0).Out, StringComparison.Ordinal);
    }

    private const string UnclosedFlow = "agents:\n  - id: planner\n    specializations: [planning\n    labels: {zone: eu}\n";

    [Fact]
    public async Task Load_config_with_an_unclosed_flow_sequence_names_the_line_and_applies_nothing()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var cli = new CliHarness().WithServer(server.BaseAddress, server.RootKey);
        var path = cli.WriteFile("fleet.yaml", UnclosedFlow);

        var run = (await cli.RunAsync("load-config", path)).Expect(1);

        Assert.StartsWith($"{path}:3:22: error: invalid YAML: this '[' is never closed with ']'", run.Error, StringComparison.Ordinal);
        Assert.Contains("nothing was applied", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", run.Error, StringComparison.Ordinal);
        using var sdk = new SessionMeshClient(server.BaseAddress, server.RootKey);
        Assert.Empty((await sdk.ListAgentsAsync(cancellationToken: Ct)).Items);
    }

    [Fact]
    public async Task Register_config_with_an_unclosed_flow_sequence_names_the_line_and_applies_nothing()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var cli = new CliHarness().WithServer(server.BaseAddress, server.RootKey);
        var path = cli.WriteFile("spec.yaml", "spec: data-analysis\nagent-id: 789\ntags: [gpu\ndescription: x\n");

        var run = (await cli.RunAsync("register", "--config", path)).Expect(1);

        Assert.StartsWith($"{path}:3:7: error: invalid YAML", run.Error, StringComparison.Ordinal);
        Assert.Contains("nothing was applied", run.Error, StringComparison.Ordinal);
        using var sdk = new SessionMeshClient(server.BaseAddress, server.RootKey);
        Assert.Empty((await sdk.ListAgentsAsync(cancellationToken: Ct)).Items);
    }

    [Fact]
    public async Task Https_against_the_plain_http_server_says_so()
    {
        await using var server = await MeshTestServer.StartAsync();
        var https = new UriBuilder(server.BaseAddress) { Scheme = "https", Port = server.BaseAddress.Port }.Uri;
        using var cli = new CliHarness().WithServer(https, server.RootKey);

        var run = (await cli.RunAsync("list")).Expect(6);

        Assert.Contains("did not answer TLS", run.Error, StringComparison.Ordinal);
        Assert.Contains($"--server {server.BaseAddress}", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("frame size", run.Error, StringComparison.Ordinal);
        Assert.Single(run.Error.TrimEnd().Split('\n'));
    }

    [Fact]
    public async Task A_server_that_is_not_session_mesh_is_named_as_such()
    {
        await using var other = await StubServer.StartAsync(async (context, _) =>
        {
            context.Response.StatusCode = 404;
            context.Response.ContentType = "text/plain";
            await context.Response.WriteAsync("File not found", Ct);
        });
        using var cli = new CliHarness().WithServer(other.BaseAddress, "sm_x.y");

        var run = (await cli.RunAsync("get", "agent", "123")).Expect(6);

        Assert.Contains("not a session-mesh server", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("Check the id", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_403_points_at_keys_self_which_the_caller_can_run()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var sdk = new SessionMeshClient(server.BaseAddress, server.RootKey);
        await sdk.JoinAsync(new JoinRequest { AgentId = "123" }, Ct);
        var readOnly = await sdk.CreateKeyAsync(new CreateKeyRequest { Scopes = ["read"] }, cancellationToken: Ct);
        using var cli = new CliHarness().WithServer(server.BaseAddress, readOnly.SessionKey);

        var run = (await cli.RunAsync("steer", "--agent-id", "123", "--direction", "west")).Expect(4);

        Assert.Contains("`session-mesh keys self`", run.Error, StringComparison.Ordinal);
        (await cli.RunAsync("keys", "self")).Expect(0);
    }

    [Fact]
    public async Task Steer_wait_timeout_points_at_commands_the_cli_has()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var sdk = new SessionMeshClient(server.BaseAddress, server.RootKey);
        await sdk.JoinAsync(new JoinRequest { AgentId = "123", Ttl = 120 }, Ct);
        using var cli = new CliHarness().WithServer(server.BaseAddress, server.RootKey);

        var run = (await cli.RunAsync("steer", "--agent-id", "123", "--direction", "west", "--wait", "--timeout", "1")).Expect(1);

        Assert.Matches("`session-mesh command get cmd_[^ ]+ --wait`", run.Error);
        Assert.Contains("`session-mesh audit`", run.Error, StringComparison.Ordinal);
        (await cli.RunAsync("audit")).Expect(0);
    }

    [Fact]
    public async Task A_busy_port_is_one_line()
    {
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var port = ((IPEndPoint)holder.LocalEndpoint).Port;
        using var cli = new CliHarness();

        var run = (await cli.RunAsync("serve", "--sandbox", "--listen", $"http://127.0.0.1:{port}")).Expect(1);

        Assert.Equal($"session-mesh: cannot listen on http://127.0.0.1:{port}: address already in use (another session-mesh serve?). Stop that process or choose another address with --listen.", run.Error.TrimEnd());
    }
}
