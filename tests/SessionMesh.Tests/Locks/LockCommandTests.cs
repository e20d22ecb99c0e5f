using SessionMesh.Client;
using SessionMesh.Contracts;
using SessionMesh.Model;
using SessionMesh.Tests.Agent;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Locks;

/// <summary><c>session-mesh lock NAME -- COMMAND</c> as real processes against a real server.</summary>
public sealed class LockCommandTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Lock_holds_the_lock_while_the_command_runs_then_releases_it_and_exits_with_its_code()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var temp = new TempDirectory();
        using var sdk = new SessionMeshClient(server.BaseAddress, server.RootKey);
        // The child waits for one line on its stdin (a directive), then exits 3.
        await using var holder = WrapperProcess.StartCli(server.BaseAddress, server.RootKey, temp.Path,
            ["lock", "repo/main", "--agent-id", "holder-1", "--", "bash", "-c", "echo \"holding $SESSION_MESH_LOCK rev=$SESSION_MESH_LOCK_REVISION\"; read line; exit 3"]);
        await holder.WaitForOutputAsync("holding repo/main rev=");

        var held = await sdk.GetLockAsync("repo/main", cancellationToken: Ct);
        Assert.Equal("holder-1", held.AgentId);
        Assert.Contains($"rev={held.Revision}", holder.Output);

        // Another run without --wait is refused at once (exit 5, conflict) and leaves no session behind.
        await using (var refused = WrapperProcess.StartCli(server.BaseAddress, server.RootKey, temp.Path,
            ["lock", "repo/main", "--agent-id", "refused-1", "--", "bash", "-c", "echo never"]))
        {
            Assert.Equal(5, await refused.ExitAsync());
            Assert.Contains("lock_held", refused.Error);
            Assert.DoesNotContain("never", refused.Output);
        }
        Assert.Equal(SessionStatus.Left, (await sdk.GetAgentAsync("refused-1", Ct)).Status);

        // A run with --wait takes the lock once the holder's command exits.
        await using var waiter = WrapperProcess.StartCli(server.BaseAddress, server.RootKey, temp.Path,
            ["lock", "repo/main", "--agent-id", "waiter-1", "--wait", "60", "--", "bash", "-c", "echo \"waiter got $SESSION_MESH_LOCK\""]);
        await sdk.SteerAsync(new SteerRequest { AgentId = "holder-1", Direction = "done" }, cancellationToken: Ct);

        Assert.Equal(3, await holder.ExitAsync());
        await waiter.WaitForOutputAsync("waiter got repo/main");
        Assert.Equal(0, await waiter.ExitAsync());
        var holderAgent = await sdk.GetAgentAsync("holder-1", Ct);
        Assert.Equal(SessionStatus.Left, holderAgent.Status);
        Assert.Equal(3, holderAgent.ExitCode);
        var failed = await Assert.ThrowsAsync<SessionMeshException>(() => sdk.GetLockAsync("repo/main", cancellationToken: Ct));
        Assert.Equal("lock_not_found", failed.Code);
        var page = await sdk.ListEventsAsync(0, 1000, Ct);
        var releases = page.Items.Where(e => e.Type == "lock.released").Select(e => (e.AgentId, e.Data!.Value.GetProperty("release_reason").GetString())).ToList();
        // Released before the leave, not by it: a clean exit sets off no lock-delay.
        Assert.Equal([("holder-1", "released"), ("waiter-1", "released")], releases);
    }

    [Fact]
    public async Task A_killed_lock_session_stops_the_command_and_says_the_lock_is_lost()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var temp = new TempDirectory();
        using var sdk = new SessionMeshClient(server.BaseAddress, server.RootKey);
        await using var holder = WrapperProcess.StartCli(server.BaseAddress, server.RootKey, temp.Path,
            ["lock", "device-7", "--agent-id", "flasher", "--", "bash", "-c", "echo flashing; sleep 600"]);
        await holder.WaitForOutputAsync("flashing");

        await sdk.KillAsync("flasher", new KillOptions { Force = true }, Ct);

        Assert.NotEqual(0, await holder.ExitAsync());
        Assert.Contains("lock 'device-7' lost", holder.Error);
        var failed = await Assert.ThrowsAsync<SessionMeshException>(() => sdk.GetLockAsync("device-7", cancellationToken: Ct));
        Assert.Equal("lock_not_found", failed.Code);
    }

    [Fact]
    public async Task Ctrl_c_while_waiting_for_the_lock_stops_the_wait_and_leaves_without_running_the_command()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var temp = new TempDirectory();
        using var sdk = new SessionMeshClient(server.BaseAddress, server.RootKey);
        await using var holder = WrapperProcess.StartCli(server.BaseAddress, server.RootKey, temp.Path,
            ["lock", "busy", "--agent-id", "holder-2", "--", "bash", "-c", "echo held; read line"]);
        await holder.WaitForOutputAsync("held");
        await using var waiter = WrapperProcess.StartCli(server.BaseAddress, server.RootKey, temp.Path,
            ["lock", "busy", "--agent-id", "waiter-2", "--wait", "300", "--", "bash", "-c", "echo never"]);
        // Its session is open: it joined, and waits for the lock now (or is about to).
        using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct))
        {
            deadline.CancelAfter(TestTimeouts.Event);
            while (await AliveAsync(sdk, "waiter-2") is false)
            {
                // A pause between reads: the waiter uses the same key, and a tight loop would spend its rate limit.
                await Task.Delay(TimeSpan.FromMilliseconds(20), deadline.Token);
            }
        }

        await waiter.SignalAsync("INT");

        Assert.Equal(130, await waiter.ExitAsync());
        Assert.DoesNotContain("never", waiter.Output);
        Assert.Equal(SessionStatus.Left, (await sdk.GetAgentAsync("waiter-2", Ct)).Status);
        Assert.Equal("holder-2", (await sdk.GetLockAsync("busy", cancellationToken: Ct)).AgentId);
        await sdk.SteerAsync(new SteerRequest { AgentId = "holder-2", Direction = "done" }, cancellationToken: Ct);
        Assert.Equal(0, await holder.ExitAsync());
    }

    private static async Task<bool> AliveAsync(SessionMeshClient sdk, string agentId)
    {
        try
        {
            return (await sdk.GetAgentAsync(agentId, Ct)).Alive;
        }
        catch (SessionMeshException ex) when (ex.Code == "agent_not_found")
        {
            return false;
        }
    }
}
