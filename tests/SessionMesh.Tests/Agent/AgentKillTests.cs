using SessionMesh.Client;
using SessionMesh.Contracts;
using SessionMesh.Model;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Agent;

/// <summary>A kill stops the wrapped child's whole process tree, checked through /proc, before it is acked.</summary>
public sealed class AgentKillTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_child_that_ignores_sigterm_is_sigkilled_when_the_grace_period_ends_and_the_kill_is_acked_with_its_status()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var temp = new TempDirectory();
        using var sdk = new SessionMeshClient(server.BaseAddress, server.RootKey);
        var script = ChildScripts.Write(temp.Path, "child.sh", ChildScripts.IgnoresTerm);
        await using var wrapper = WrapperProcess.Start(server.BaseAddress, server.RootKey, temp.Path, ["--agent-id", "w-stubborn", "--", "bash", script], new Dictionary<string, string> { ["DIR"] = temp.Path });
        await wrapper.WaitForOutputAsync("ready");
        var child = Assert.Single(ProcTable.ReadPids(Path.Combine(temp.Path, "pids")));

        var kill = await sdk.KillAsync("w-stubborn", new KillOptions { GracePeriod = 3 }, Ct);

        Assert.Equal(137, await wrapper.ExitAsync());
        Assert.False(ProcTable.IsRunning(child));
        var command = await sdk.GetCommandAsync(Assert.Single(kill.Killed).CommandId!, 15, Ct);
        Assert.Equal("acked", command.Status);
        Assert.Equal(137, command.Result!.Value.GetProperty("exit_code").GetInt32());
        Assert.True(command.Result!.Value.GetProperty("forced").GetBoolean());
        var agent = await sdk.GetAgentAsync("w-stubborn", Ct);
        Assert.Equal(SessionStatus.Killed, agent.Status);
    }

    [Fact]
    public async Task A_kill_leaves_no_process_of_the_tree_including_grandchildren_in_their_own_sessions()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var temp = new TempDirectory();
        using var sdk = new SessionMeshClient(server.BaseAddress, server.RootKey);
        var script = ChildScripts.Write(temp.Path, "child.sh", ChildScripts.SetsidGrandchildren);
        await using var wrapper = WrapperProcess.Start(server.BaseAddress, server.RootKey, temp.Path, ["--agent-id", "w-tree", "--", "bash", script], new Dictionary<string, string> { ["DIR"] = temp.Path });
        await wrapper.WaitForOutputAsync("ready");
        var pids = ProcTable.ReadPids(Path.Combine(temp.Path, "pids"));
        Assert.Equal(3, pids.Count);
        Assert.All(pids, pid => Assert.True(ProcTable.IsRunning(pid), $"pid {pid} should run before the kill"));

        var kill = await sdk.KillAsync("w-tree", new KillOptions { GracePeriod = 30 }, Ct);

        // SIGTERM ends every member: no need for the grace period, let alone SIGKILL.
        Assert.Equal(143, await wrapper.ExitAsync());
        Assert.Empty(ProcTable.Survivors(pids));
        var command = await sdk.GetCommandAsync(Assert.Single(kill.Killed).CommandId!, 15, Ct);
        Assert.Equal("acked", command.Status);
        Assert.False(command.Result!.Value.GetProperty("forced").GetBoolean());
        Assert.Equal(SessionStatus.Killed, (await sdk.GetAgentAsync("w-tree", Ct)).Status);
    }

    [Fact]
    public async Task A_force_kill_stops_the_tree_at_once()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var temp = new TempDirectory();
        using var sdk = new SessionMeshClient(server.BaseAddress, server.RootKey);
        var script = ChildScripts.Write(temp.Path, "child.sh", ChildScripts.IgnoresTerm);
        await using var wrapper = WrapperProcess.Start(server.BaseAddress, server.RootKey, temp.Path, ["--agent-id", "w-force", "--", "bash", script], new Dictionary<string, string> { ["DIR"] = temp.Path });
        await wrapper.WaitForOutputAsync("ready");
        var child = Assert.Single(ProcTable.ReadPids(Path.Combine(temp.Path, "pids")));

        await sdk.KillAsync("w-force", new KillOptions { Force = true }, Ct);

        // It ignores SIGTERM: only an immediate SIGKILL ends it.
        Assert.Equal(137, await wrapper.ExitAsync());
        Assert.False(ProcTable.IsRunning(child));
    }

    [Fact]
    public async Task A_cascade_kill_of_the_top_of_three_nested_wrappers_leaves_no_process_of_any_of_them()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var temp = new TempDirectory();
        using var sdk = new SessionMeshClient(server.BaseAddress, server.RootKey);
        ChildScripts.Write(temp.Path, "mid.sh", ChildScripts.Mid);
        ChildScripts.Write(temp.Path, "leaf.sh", ChildScripts.Leaf);
        var top = ChildScripts.Write(temp.Path, "top.sh", ChildScripts.Top);
        await using var wrapper = WrapperProcess.Start(server.BaseAddress, server.RootKey, temp.Path, ["--agent-id", "n-top", "--", "bash", top],
            new Dictionary<string, string> { ["DIR"] = temp.Path, ["PREFIX"] = "n" });
        // The leaf's line passes up through both wrappers' echo; its parent came from SESSION_MESH_AGENT_ID.
        await wrapper.WaitForOutputAsync("leaf ready under n-leaf");
        Assert.Equal("n-top", (await sdk.GetAgentAsync("n-mid", Ct)).ParentId);
        Assert.Equal("n-mid", (await sdk.GetAgentAsync("n-leaf", Ct)).ParentId);
        var pids = ProcTable.ReadPids(Path.Combine(temp.Path, "pids"));
        Assert.Equal(3, pids.Count);
        Assert.All(pids, pid => Assert.True(ProcTable.IsRunning(pid), $"pid {pid} should run before the kill"));

        var kill = await sdk.KillAsync("n-top", new KillOptions { GracePeriod = 20 }, Ct);

        Assert.Equal(["n-leaf", "n-mid", "n-top"], kill.Killed.Select(k => k.AgentId).Order(StringComparer.Ordinal));
        await wrapper.ExitAsync();
        Assert.Empty(ProcTable.Survivors(pids));
        foreach (var id in new[] { "n-top", "n-mid", "n-leaf" })
        {
            Assert.False((await sdk.GetAgentAsync(id, Ct)).Alive, $"{id} should have ended");
        }
    }

    [Fact]
    public async Task A_child_that_never_reads_its_stdin_gets_directives_failed_and_is_still_killed()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var temp = new TempDirectory();
        using var sdk = new SessionMeshClient(server.BaseAddress, server.RootKey);
        var script = ChildScripts.Write(temp.Path, "child.sh", ChildScripts.IgnoresTerm);
        await using var wrapper = WrapperProcess.Start(server.BaseAddress, server.RootKey, temp.Path, ["--agent-id", "w-deaf", "--", "bash", script], new Dictionary<string, string> { ["DIR"] = temp.Path });
        await wrapper.WaitForOutputAsync("ready");
        // Two lines of ~60 KB overflow the 64 KB pipe the child never drains.
        var payload = System.Text.Json.JsonSerializer.SerializeToElement(new string('x', 60_000), MeshJsonContext.Default.String);
        var first = await sdk.SteerAsync(new SteerRequest { AgentId = "w-deaf", Direction = "one", Payload = payload }, cancellationToken: Ct);
        var second = await sdk.SteerAsync(new SteerRequest { AgentId = "w-deaf", Direction = "two", Payload = payload }, cancellationToken: Ct);

        Assert.Equal("acked", (await sdk.GetCommandAsync(first.CommandId, 30, Ct)).Status);
        Assert.Equal("failed", (await sdk.GetCommandAsync(second.CommandId, 30, Ct)).Status);

        await sdk.KillAsync("w-deaf", new KillOptions { Force = true }, Ct);
        Assert.Equal(137, await wrapper.ExitAsync());
    }
}
