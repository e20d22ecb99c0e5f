using SessionMesh.Client;
using SessionMesh.Contracts;
using SessionMesh.Model;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Agent;

/// <summary>The SDK's agent helper lets its caller ack a kill once it has stopped, instead of on arrival.</summary>
public sealed class DeferredKillAckTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task With_ack_on_arrival_off_the_session_stays_open_until_the_caller_acks_the_kill()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var operatorClient = new SessionMeshClient(server.BaseAddress, server.RootKey);
        using var agentClient = new SessionMeshClient(server.BaseAddress, server.RootKey);
        await using var agent = await MeshAgent.JoinAsync(agentClient, new MeshAgentOptions { AgentId = "deferred", Ttl = 60, AckKillOnArrival = false }, Ct);
        var reading = Task.Run(async () =>
        {
            await foreach (var _ in agent.ReadCommandsAsync(Ct))
            {
            }
        }, Ct);

        var kill = await operatorClient.KillAsync("deferred", new KillOptions { GracePeriod = 300 }, Ct);
        await reading.WaitAsync(TestTimeouts.Event, Ct);

        Assert.True(agent.Killed.IsCancellationRequested);
        Assert.Equal(kill.Killed[0].CommandId, agent.KillCommand?.CommandId);
        var during = await operatorClient.GetAgentAsync("deferred", Ct);
        Assert.True(during.Alive, "the session stays open until the kill is acked");
        Assert.NotNull(during.TerminatingUntil);
        Assert.Equal("delivered", (await operatorClient.GetCommandAsync(agent.KillCommand!.CommandId, Ct)).Status);

        await agent.AckAsync(agent.KillCommand!, cancellationToken: Ct);

        var after = await operatorClient.GetAgentAsync("deferred", Ct);
        Assert.Equal(SessionStatus.Killed, after.Status);
        Assert.Equal("acked", (await operatorClient.GetCommandAsync(agent.KillCommand!.CommandId, Ct)).Status);
    }
}
