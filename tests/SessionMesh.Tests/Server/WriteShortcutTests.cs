using System.Net;
using SessionMesh.Store;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Server;

/// <summary>
/// Reads and writes that hot paths skip when memory already answers them, counted on the store and its write
/// transactions: each shortcut is shown taken, and shown not taken where it would be wrong.
/// </summary>
public sealed class WriteShortcutTests
{
    private const string Api = "api/session-mesh";
    private const string AgentRead = "tx." + nameof(IMeshWriteTransaction.GetAgentAsync);

    // Sweeps and checkpoints only when a test runs them, so nothing is written behind its back.
    private static readonly Dictionary<string, string> s_manual = new()
    {
        ["Mesh:SweepInterval"] = "1.00:00:00",
        ["Mesh:LeaseCheckpointInterval"] = "1.00:00:00",
    };

    [Fact]
    public async Task A_steer_to_an_agent_with_an_open_session_does_not_read_the_agent_and_one_to_an_unknown_agent_does()
    {
        await using var server = await MeshTestServer.StartAsync(settings: s_manual, configure: CountingMeshStore.Install(out var counter));
        using var client = server.CreateClient();
        await client.JoinAsync("busy");
        var reads = counter.Calls(AgentRead);

        (await client.PostReplyAsync($"{Api}/steer", """{"agent_id": "busy", "direction": "go"}""")).Expect(HttpStatusCode.OK);
        Assert.Equal(reads, counter.Calls(AgentRead));

        // Without an open session the agent is read: that is how an unknown one gets its 404.
        (await client.PostReplyAsync($"{Api}/steer", """{"agent_id": "nobody", "direction": "go"}""")).ExpectProblem(HttpStatusCode.NotFound, "agent_not_found");
        Assert.Equal(reads + 1, counter.Calls(AgentRead));
    }

    [Fact]
    public async Task A_top_level_join_does_not_wait_for_a_lease_checkpoint_and_a_childs_join_does()
    {
        await using var server = await MeshTestServer.StartAsync(settings: s_manual, configure: CountingMeshStore.Install(out var counter));
        using var client = server.CreateClient();
        var parent = await client.JoinAsync("parent");
        // A renewal only memory holds: the lease table has something to checkpoint.
        (await client.PostReplyAsync($"{Api}/sessions/{parent}/heartbeat", "{}")).Expect(HttpStatusCode.OK);
        var checkpoints = Checkpoints(counter);

        await client.JoinAsync("top");
        Assert.Equal(checkpoints, Checkpoints(counter));

        // A child's join counts its parent's live children in the store, by their leases: those are written first.
        await client.JoinAsync("child", parentId: "parent");
        Assert.Equal(checkpoints + 1, Checkpoints(counter));
    }

    private static int Checkpoints(CountingMeshStore counter) =>
        counter.Calls("tx." + nameof(IMeshWriteTransaction.UpdateLeasesAsync)) + counter.Calls("tx." + nameof(IMeshWriteTransaction.UpdateLeasesExceptBudgetsAsync));
}
