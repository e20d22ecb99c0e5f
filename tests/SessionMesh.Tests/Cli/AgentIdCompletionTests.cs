using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Cli;

/// <summary>Shell completion asks the server for agent ids, through the parser's [suggest:N] directive the scripts call.</summary>
public sealed class AgentIdCompletionTests
{
    private static string[] Suggest(string line) => [$"[suggest:{line.Length}]", line];

    [Fact]
    public async Task Agent_ids_complete_from_the_server_with_the_prefix_typed()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        await client.JoinAsync("alpha-1");
        await client.JoinAsync("alpha-2");
        await client.JoinAsync("beta");
        using var cli = new CliHarness().WithServer(server.BaseAddress, server.RootKey);

        var steer = (await cli.RunAsync(Suggest("session-mesh steer --agent-id al"))).Expect(0);
        var kill = (await cli.RunAsync(Suggest("session-mesh kill --agent-id "))).Expect(0);
        var get = (await cli.RunAsync(Suggest("session-mesh get agent b"))).Expect(0);

        Assert.Equal(["alpha-1", "alpha-2"], Lines(steer.Out));
        Assert.Equal(["alpha-1", "alpha-2", "beta"], Lines(kill.Out));
        // At an argument the parser also offers the options whose names contain the word ("--verbose" has a "b").
        Assert.Equal(["beta"], Lines(get.Out).Where(l => !l.StartsWith('-')));
    }

    [Fact]
    public async Task Without_a_key_or_a_server_completion_suggests_nothing_and_says_nothing()
    {
        using var noKey = new CliHarness().WithServer(new Uri("http://127.0.0.1:9/"), null);
        var run = (await noKey.RunAsync(Suggest("session-mesh steer --agent-id "))).Expect(0);
        Assert.Empty(Lines(run.Out));
        Assert.Equal("", run.Error);

        using var noServer = new CliHarness().WithServer(new Uri("http://127.0.0.1:9/"), "sm_root.nothing-listens-here");
        var unreachable = (await noServer.RunAsync(Suggest("session-mesh steer --agent-id "))).Expect(0);
        Assert.Empty(Lines(unreachable.Out));
        Assert.Equal("", unreachable.Error);
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
