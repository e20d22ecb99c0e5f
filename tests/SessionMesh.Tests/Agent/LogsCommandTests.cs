using System.Net;
using SessionMesh.Tests.Cli;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Agent;

/// <summary>`session-mesh logs [-f]`: the tail, then new lines as they come.</summary>
public sealed class LogsCommandTests
{
    private const string Api = "api/session-mesh";

    private static string Line(string text) => $$"""{"lines": [{"stream": "stdout", "text": "{{text}}"}]}""";

    [Fact]
    public async Task Logs_prints_the_tail_and_follow_prints_new_lines_as_they_arrive()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var temp = new TempDirectory();
        using var http = server.CreateClient();
        await http.JoinAsync("w");
        (await http.PostReplyAsync($"{Api}/agents/w/logs", Line("first line"))).Expect(HttpStatusCode.OK);
        using var cli = new CliHarness();
        cli.WithServer(server.BaseAddress, server.RootKey);

        var tail = (await cli.RunAsync("logs", "--agent-id", "w", "--output", "table")).Expect(0);
        Assert.Equal("first line", tail.Out.Trim());
        var unknown = (await cli.RunAsync("logs", "--agent-id", "nobody")).Expect(3);
        Assert.Contains("agent_not_found", unknown.Error, StringComparison.Ordinal);

        await using var follow = WrapperProcess.StartCli(server.BaseAddress, server.RootKey, temp.Path, ["logs", "--agent-id", "w", "-f", "--tail", "1", "--output", "json"]);
        await follow.WaitForOutputAsync("\"text\":\"first line\"");
        (await http.PostReplyAsync($"{Api}/agents/w/logs", Line("second line"))).Expect(HttpStatusCode.OK);
        await follow.WaitForOutputAsync("\"text\":\"second line\"");
    }
}
