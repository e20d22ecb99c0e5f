using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using SessionMesh.Client;
using SessionMesh.Contracts;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Agent;

/// <summary>A wrapper outlives a restart of the server: it reconnects, and every directive reaches the child exactly once.</summary>
public sealed class AgentRestartTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Across_a_server_restart_no_directive_is_lost_or_handed_twice()
    {
        using var temp = new TempDirectory();
        var listen = $"http://127.0.0.1:{FreePort()}";
        string[] serveArgs = ["--listen", listen, "--data-dir", "data"];
        var first = ServeProcess.Start(temp.Path, serveArgs);
        await first.AddressAsync();
        var key = await first.RootKeyAsync();
        using var sdk = new SessionMeshClient(new Uri(listen), key);
        var script = ChildScripts.Write(temp.Path, "child.sh", ChildScripts.Recorder);
        await using var wrapper = WrapperProcess.Start(new Uri(listen), key, temp.Path, ["--agent-id", "w-restart", "--ttl", "120", "--", "bash", script], new Dictionary<string, string> { ["DIR"] = temp.Path });
        await wrapper.WaitForOutputAsync("ready w-restart");
        var before = await sdk.SteerAsync(new SteerRequest { AgentId = "w-restart", Direction = "before" }, cancellationToken: Ct);
        Assert.Equal("acked", (await sdk.GetCommandAsync(before.CommandId, 30, Ct)).Status);

        await first.StopAsync();
        await first.DisposeAsync();
        await using var second = ServeProcess.Start(temp.Path, serveArgs);
        await second.AddressAsync();
        // The lease outlived the restart (extended by its TTL), so the steer is accepted and waits for the stream to return.
        var after = await sdk.SteerAsync(new SteerRequest { AgentId = "w-restart", Direction = "after" }, cancellationToken: Ct);

        Assert.Equal("acked", (await sdk.GetCommandAsync(after.CommandId, 60, Ct)).Status);
        // The wrapper acks once the directive is on the child's stdin; the child writes it to the file just after.
        await wrapper.WaitForOutputAsync($"\"command_id\":\"{after.CommandId}\"");
        var handed = File.ReadAllLines(Path.Combine(temp.Path, "directives")).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("command_id").GetString()).ToList();
        Assert.Equal([before.CommandId, after.CommandId], handed);
        await sdk.SteerAsync(new SteerRequest { AgentId = "w-restart", Direction = "exit" }, cancellationToken: Ct);
        Assert.Equal(7, await wrapper.ExitAsync());
        Assert.Equal(3, File.ReadAllLines(Path.Combine(temp.Path, "directives")).Length);
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }
}
