using System.Net;
using SessionMesh.Client;
using SessionMesh.Model;
using SessionMesh.Tests.Cli;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Agent;

/// <summary>`session-mesh agent --stall-after N --on-stall ACTION --budget k=v,...`: passed in the join, refused locally when malformed.</summary>
public sealed class AgentStallBudgetTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private const string Sleeper = """
        echo ready
        exec sleep 1000
        """;

    [Fact]
    public async Task Stall_and_budget_options_reach_the_join_and_a_stall_with_on_stall_kill_stops_the_child()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var temp = new TempDirectory();
        using var sdk = new SessionMeshClient(server.BaseAddress, server.RootKey);
        var script = ChildScripts.Write(temp.Path, "child.sh", Sleeper);
        await using var wrapper = WrapperProcess.Start(server.BaseAddress, server.RootKey, temp.Path,
            ["--agent-id", "w-stall", "--stall-after", "1", "--on-stall", "kill", "--budget", "tokens=5000, cost_usd=2.5", "--budget", "runtime=600", "--", "bash", script]);
        await wrapper.WaitForOutputAsync("ready");

        // The child never reports progress: a second later the mesh counts it stalled and kills it gracefully (SIGTERM).
        Assert.Equal(143, await wrapper.ExitAsync());
        Assert.Equal(SessionStatus.Killed, (await sdk.GetAgentAsync("w-stall", Ct)).Status);
        using var api = server.CreateClient();
        var session = Assert.Single((await api.GetReplyAsync("api/session-mesh/alive?filter=ended&agent_id=w-stall")).Expect(HttpStatusCode.OK).Json.GetProperty("items").EnumerateArray());
        Assert.Equal("stalled", session.GetProperty("end_reason").GetString());
        Assert.Equal(1, session.GetProperty("stall_after").GetInt32());
        Assert.Equal("kill", session.GetProperty("on_stall").GetString());
        var budget = session.GetProperty("budget");
        Assert.Equal(5000, budget.GetProperty("tokens").GetInt64());
        Assert.Equal(2.5, budget.GetProperty("cost_usd").GetDouble());
        Assert.Equal(600, budget.GetProperty("runtime").GetInt32());
    }

    [Fact]
    public async Task A_budget_without_a_stall_limit_is_joined_as_given()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var temp = new TempDirectory();
        using var sdk = new SessionMeshClient(server.BaseAddress, server.RootKey);
        var script = ChildScripts.Write(temp.Path, "child.sh", Sleeper);
        await using var wrapper = WrapperProcess.Start(server.BaseAddress, server.RootKey, temp.Path,
            ["--agent-id", "w-budget", "--budget", "tool_calls=40,turns=12", "--", "bash", script]);
        await wrapper.WaitForOutputAsync("ready");

        var session = (await sdk.GetAgentAsync("w-budget", Ct)).Session!;
        Assert.Equal(SessionStatus.Active, session.Status);
        Assert.Equal(new AgentBudget { ToolCalls = 40, Turns = 12 }, session.Budget);
        Assert.Null(session.StallAfter);
        Assert.Null(session.OnStall);
    }

    [Theory]
    [InlineData("--budget", "tokenz=5", "unknown key 'tokenz'")]
    [InlineData("--budget", "tokens=abc", "tokens='abc' is not a whole number")]
    [InlineData("--budget", "tokens=0", "tokens='0' is not a whole number")]
    [InlineData("--budget", "cost_usd=-1", "cost_usd='-1' is not an amount")]
    [InlineData("--budget", "cost_usd=NaN", "cost_usd='NaN' is not an amount")]
    [InlineData("--budget", "runtime", "'runtime' is not runtime=VALUE")]
    [InlineData("--budget", "turns=3,turns=4", "'turns' is given twice")]
    [InlineData("--stall-after", "0", "--stall-after 0")]
    [InlineData("--on-stall", "sometimes", "sometimes")]
    [InlineData("--on-stall", "kill", "--on-stall needs --stall-after")]
    public async Task A_bad_stall_or_budget_option_exits_2_naming_it_before_joining(string option, string value, string named)
    {
        await using var server = await MeshTestServer.StartAsync();
        using var sdk = new SessionMeshClient(server.BaseAddress, server.RootKey);
        using var cli = new CliHarness();
        cli.WithServer(server.BaseAddress, server.RootKey);

        var refused = (await cli.RunAsync("agent", "--agent-id", "w-bad", option, value, "--", "true")).Expect(2);

        Assert.Contains(named, refused.Error, StringComparison.Ordinal);
        var unknown = await Assert.ThrowsAsync<SessionMeshException>(() => sdk.GetAgentAsync("w-bad", Ct));
        Assert.Equal(404, unknown.Status);
    }
}
