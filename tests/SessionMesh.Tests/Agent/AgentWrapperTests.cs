using System.Text.Json;
using SessionMesh.Client;
using SessionMesh.Contracts;
using SessionMesh.Model;
using SessionMesh.Tests.Cli;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Agent;

/// <summary>`session-mesh agent` with real child processes: directives on stdin, acks, exit codes, signals, interrupts.</summary>
public sealed class AgentWrapperTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Directives_reach_the_child_as_json_lines_and_are_acked_and_its_exit_code_ends_the_session_left()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var temp = new TempDirectory();
        using var sdk = new SessionMeshClient(server.BaseAddress, server.RootKey);
        var script = ChildScripts.Write(temp.Path, "child.sh", ChildScripts.Recorder);
        await using var wrapper = WrapperProcess.Start(server.BaseAddress, server.RootKey, temp.Path,
            ["--agent-id", "w-directives", "--spec", "data-analysis", "--label", "team=ml", "--", "bash", script], new Dictionary<string, string> { ["DIR"] = temp.Path });
        await wrapper.WaitForOutputAsync("ready w-directives directive=none");

        var alive = await sdk.GetAgentAsync("w-directives", Ct);
        Assert.True(alive.Alive);
        // The child's own key: bound to its agent, agent and read scopes only, revoked once the wrapper is done.
        using var childKeyClient = new SessionMeshClient(server.BaseAddress, File.ReadAllText(Path.Combine(temp.Path, "agent-key")).Trim());
        var childKey = await childKeyClient.GetSelfKeyAsync(Ct);
        Assert.Equal("w-directives", childKey.AgentId);
        Assert.Equal(["agent", "read"], childKey.Scopes.Order(StringComparer.Ordinal));
        Assert.Equal("ml", alive.Labels["team"]);
        Assert.Contains(alive.Specializations, s => s.Name == "data-analysis");

        var steer = await sdk.SteerAsync(new SteerRequest { AgentId = "w-directives", Direction = "north", Payload = JsonDocument.Parse("{\"speed\":2}").RootElement }, cancellationToken: Ct);
        Assert.Equal("acked", (await sdk.GetCommandAsync(steer.CommandId, 15, Ct)).Status);
        var message = await sdk.SendMessageAsync("w-directives", new MessageRequest { Text = "hello", From = "planner" }, cancellationToken: Ct);
        Assert.Equal("acked", (await sdk.GetCommandAsync(message.CommandId, 15, Ct)).Status);
        // The wrapper acks once a directive is on the child's stdin; the child writes it to the file just after.
        await wrapper.WaitForOutputAsync($"\"command_id\":\"{message.CommandId}\"");

        var lines = File.ReadAllLines(Path.Combine(temp.Path, "directives")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(2, lines.Count);
        Assert.Equal("steer", lines[0].GetProperty("type").GetString());
        Assert.Equal(steer.CommandId, lines[0].GetProperty("command_id").GetString());
        Assert.Equal("north", lines[0].GetProperty("direction").GetString());
        Assert.Equal("inject", lines[0].GetProperty("mode").GetString());
        Assert.Equal(2, lines[0].GetProperty("payload").GetProperty("speed").GetInt32());
        Assert.Equal("message", lines[1].GetProperty("type").GetString());
        Assert.Equal("hello", lines[1].GetProperty("text").GetString());
        Assert.Equal("planner", lines[1].GetProperty("from").GetString());

        await sdk.SteerAsync(new SteerRequest { AgentId = "w-directives", Direction = "exit" }, cancellationToken: Ct);
        Assert.Equal(7, await wrapper.ExitAsync());
        var ended = await sdk.GetAgentAsync("w-directives", Ct);
        Assert.Equal(SessionStatus.Left, ended.Status);
        Assert.Equal(7, ended.ExitCode);
        var revoked = await Assert.ThrowsAsync<SessionMeshException>(() => childKeyClient.GetSelfKeyAsync(Ct));
        Assert.Equal(401, revoked.Status);
    }

    [Fact]
    public async Task Sigterm_to_the_wrapper_stops_the_child_and_leaves_with_its_exit_code()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var temp = new TempDirectory();
        using var sdk = new SessionMeshClient(server.BaseAddress, server.RootKey);
        var script = ChildScripts.Write(temp.Path, "child.sh", ChildScripts.Recorder);
        await using var wrapper = WrapperProcess.Start(server.BaseAddress, server.RootKey, temp.Path, ["--agent-id", "w-term", "--", "bash", script], new Dictionary<string, string> { ["DIR"] = temp.Path });
        await wrapper.WaitForOutputAsync("ready w-term");
        var child = Assert.Single(ProcTable.ReadPids(Path.Combine(temp.Path, "pids")));
        Assert.True(ProcTable.IsRunning(child));

        await wrapper.SignalAsync("TERM");

        // bash ended by SIGTERM: 128 + 15.
        Assert.Equal(143, await wrapper.ExitAsync());
        Assert.False(ProcTable.IsRunning(child));
        var agent = await sdk.GetAgentAsync("w-term", Ct);
        Assert.Equal(SessionStatus.Left, agent.Status);
        Assert.Equal(143, agent.ExitCode);
    }

    [Fact]
    public async Task An_interrupt_restarts_the_child_with_the_directive_in_its_environment_and_on_stdin()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var temp = new TempDirectory();
        using var sdk = new SessionMeshClient(server.BaseAddress, server.RootKey);
        var script = ChildScripts.Write(temp.Path, "child.sh", ChildScripts.Recorder);
        await using var wrapper = WrapperProcess.Start(server.BaseAddress, server.RootKey, temp.Path, ["--agent-id", "w-interrupt", "--", "bash", script], new Dictionary<string, string> { ["DIR"] = temp.Path });
        await wrapper.WaitForOutputAsync("ready w-interrupt directive=none");

        var steer = await sdk.SteerAsync(new SteerRequest { AgentId = "w-interrupt", Direction = "drop everything", Mode = "interrupt" }, cancellationToken: Ct);

        Assert.Equal("acked", (await sdk.GetCommandAsync(steer.CommandId, 15, Ct)).Status);
        await wrapper.WaitForOutputAsync($"directive={{\"type\":\"steer\",\"command_id\":\"{steer.CommandId}\"");
        // The child prints its ready line before it reads the directive from stdin into the file.
        await wrapper.WaitForOutputAsync("handed: ");
        var pids = ProcTable.ReadPids(Path.Combine(temp.Path, "pids"));
        Assert.Equal(2, pids.Count);
        Assert.False(ProcTable.IsRunning(pids[0]));
        Assert.True(ProcTable.IsRunning(pids[1]));
        var handed = JsonDocument.Parse(Assert.Single(File.ReadAllLines(Path.Combine(temp.Path, "directives")))).RootElement;
        Assert.Equal("interrupt", handed.GetProperty("mode").GetString());
        Assert.True((await sdk.GetAgentAsync("w-interrupt", Ct)).Alive);
    }

    [Fact]
    public async Task A_missing_command_or_a_refused_join_exits_2_with_a_clear_error()
    {
        await using var server = await MeshTestServer.StartAsync(settings: new Dictionary<string, string> { ["Mesh:MaxChildren"] = "1" });
        using var sdk = new SessionMeshClient(server.BaseAddress, server.RootKey);
        using var cli = new CliHarness();
        cli.WithServer(server.BaseAddress, server.RootKey);

        var missing = (await cli.RunAsync("agent", "--agent-id", "a", "--", "/no/such/program")).Expect(2);
        Assert.Contains("command not found: '/no/such/program'", missing.Error, StringComparison.Ordinal);
        (await cli.RunAsync("agent", "--agent-id", "a")).Expect(2);

        var badId = (await cli.RunAsync("agent", "--agent-id", "bad id!", "--", "true")).Expect(2);
        Assert.Contains("refused the join of 'bad id!'", badId.Error, StringComparison.Ordinal);
        Assert.Contains("agent_id", badId.Error, StringComparison.Ordinal);

        await sdk.JoinAsync(new JoinRequest { AgentId = "p", Ttl = 300 }, Ct);
        await sdk.JoinAsync(new JoinRequest { AgentId = "first-child", ParentId = "p", Ttl = 300 }, Ct);
        var limited = (await cli.RunAsync("agent", "--agent-id", "second-child", "--parent", "p", "--", "true")).Expect(2);
        Assert.Contains("spawn_limit_exceeded", limited.Error, StringComparison.Ordinal);
    }
}
