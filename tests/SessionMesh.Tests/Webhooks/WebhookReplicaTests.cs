using SessionMesh.Tests.Infrastructure;
using SessionMesh.Tests.Postgres;

namespace SessionMesh.Tests.Webhooks;

/// <summary>Webhooks with <c>serve</c> replicas (real processes) on one PostgreSQL database.</summary>
public sealed class WebhookReplicaTests
{
    [Fact]
    public async Task Only_the_leader_delivers_so_every_event_reaches_the_receiver_once_whichever_replica_it_happened_on()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var database = await PostgresTestDatabase.CreateAsync(ct);
        await using var replicas = await PostgresReplicas.StartAsync(database, 2, new Dictionary<string, string>
        {
            // The allow-list through its documented variable; a short poll so a webhook created on a follower is picked up soon.
            ["SESSION_MESH_WEBHOOK_ALLOWED_HOSTS"] = "127.0.0.1",
            ["SESSION_MESH_Mesh__Webhooks__PollInterval"] = "00:00:00.200",
        });
        var (id, secret) = await WebhookServer.CreateAsync(replicas[1], receiver.Url, """["session.joined"]""");

        var agents = Enumerable.Range(0, 6).Select(i => $"agent-{i}").ToList();
        for (var i = 0; i < agents.Count; i++)
        {
            await replicas[i % replicas.Count].JoinAsync(agents[i]);
        }
        var received = await receiver.WaitForAsync(r => r.Count >= agents.Count, "every join");
        Assert.Equal(agents, received.Select(d => d.Json.GetProperty("agent_id").GetString()));
        Assert.Equal(received.Count, received.Select(d => d.DeliveryId).Distinct().Count());
        Assert.All(received, d => Assert.True(SessionMeshWebhook.Verify(secret, d.Body, d.Timestamp, d.Signature)));
        Assert.All(received, d => Assert.StartsWith(id + ":", d.DeliveryId, StringComparison.Ordinal));

        // One more event after the deliveries settled: still exactly one delivery each.
        await replicas[1].JoinAsync("late");
        received = await receiver.WaitForAsync(r => r.Any(d => d.Json.GetProperty("agent_id").GetString() == "late"), "the late join");
        Assert.Equal(agents.Count + 1, received.Count);
    }
}
