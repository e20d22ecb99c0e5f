using System.Net;
using Microsoft.Extensions.DependencyInjection;
using SessionMesh.Mesh;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Server;

/// <summary>
/// What waits on one command (a steer's brief wait for its push, a read of the command) lets go of its signal when it
/// returns: a command nobody acks is never notified again, and its signal would be held for good, one per steer.
/// </summary>
public sealed class SignalRetentionTests
{
    private const string Api = "api/session-mesh";

    [Fact]
    public async Task Steers_and_reads_of_commands_nobody_acks_leave_no_signal_behind()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        await client.JoinAsync("unacked");
        await using var stream = await SseReader.OpenAsync(client, $"{Api}/agents/unacked/commands");

        var ids = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            var answer = (await client.PostReplyAsync($"{Api}/steer", $$"""{"agent_id": "unacked", "direction": "d{{i}}"}""")).Expect(HttpStatusCode.OK).Json;
            Assert.Equal("delivered", answer.GetProperty("status").GetString());
            ids.Add(answer.GetProperty("command_id").GetString()!);
            Assert.Equal($"d{i}", (await stream.NextOfTypeAsync("command")).Json.GetProperty("direction").GetString());
        }
        foreach (var id in ids)
        {
            (await client.GetReplyAsync($"{Api}/commands/{id}")).Expect(HttpStatusCode.OK);
        }
        // A delivered command is still pending: this read waits its full second for an ack that never comes.
        var waited = await client.GetReplyAsync($"{Api}/commands/{ids[0]}?wait=1");
        Assert.Equal("delivered", waited.Expect(HttpStatusCode.OK).Json.GetProperty("status").GetString());

        var signals = (InProcessMeshSignals)server.App.Services.GetRequiredService<IMeshSignals>();
        Assert.DoesNotContain(signals.WaitedKeys, key => key.StartsWith("command\n", StringComparison.Ordinal));
    }
}
