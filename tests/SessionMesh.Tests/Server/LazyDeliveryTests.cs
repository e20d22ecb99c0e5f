using System.Net;
using System.Text.Json;
using SessionMesh.Model;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Server;

/// <summary>
/// A command is handed to the agent's stream without waiting for a store write: "delivered" is written just after,
/// and until then every read already says delivered, the sweep leaves it alone, and an ack that overtakes the write
/// keeps the events in order.
/// </summary>
public sealed class LazyDeliveryTests
{
    private const string Api = "api/session-mesh";

    // No background writes of the server's own (sweeps, lease checkpoints) to take the held write instead.
    private static readonly Dictionary<string, string> s_quiet = new()
    {
        ["Mesh:SweepInterval"] = "1.00:00:00",
        ["Mesh:LeaseCheckpointInterval"] = "1.00:00:00",
    };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_frame_reaches_the_agent_while_the_delivery_write_is_still_held()
    {
        await using var held = await HandOutWithTheWriteHeldAsync("lazy");
        var (server, client, store, frame, id) = (held.Server, held.Client, held.Store, held.Frame, held.CommandId);

        Assert.Equal("delivered", frame.Json.GetProperty("status").GetString());
        Assert.Equal(CommandStatus.Queued, (await server.Store.GetCommandAsync(id, Ct))!.Status);
        var read = (await client.GetReplyAsync($"{Api}/commands/{id}")).Expect(HttpStatusCode.OK).Json;
        Assert.Equal("delivered", read.GetProperty("status").GetString());
        Assert.Equal(frame.Json.GetProperty("delivered_at").GetString(), read.GetProperty("delivered_at").GetString());

        store.Release();
        await server.CheckpointLeasesAsync();
        var stored = (await server.Store.GetCommandAsync(id, Ct))!;
        Assert.Equal(CommandStatus.Delivered, stored.Status);
        Assert.Equal(1, stored.DeliveryCount);
        Assert.Equal(["command.queued", "command.delivered"], await EventTypesAsync(client, id));
    }

    [Fact]
    public async Task An_ack_that_overtakes_the_delivery_write_records_delivered_then_acked()
    {
        await using var held = await HandOutWithTheWriteHeldAsync("quick");
        var (server, client, store, id) = (held.Server, held.Client, held.Store, held.CommandId);
        (await client.PostReplyAsync($"{Api}/agents/quick/commands/{id}/ack", """{"status": "acked"}""")).Expect(HttpStatusCode.OK);
        store.Release();
        await server.CheckpointLeasesAsync();

        var stored = (await server.Store.GetCommandAsync(id, Ct))!;
        Assert.Equal(CommandStatus.Acked, stored.Status);
        Assert.Equal(1, stored.DeliveryCount);
        Assert.NotNull(stored.DeliveredAt);
        Assert.Equal(["command.queued", "command.delivered", "command.acked"], await EventTypesAsync(client, id));
    }

    [Fact]
    public async Task The_sweep_does_not_expire_a_steer_whose_delivery_is_not_written_yet()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var held = await HandOutWithTheWriteHeldAsync("slow", time, ttl: 5);
        var (server, client, store, id) = (held.Server, held.Client, held.Store, held.CommandId);
        time.Advance(TimeSpan.FromSeconds(10));
        await server.SweepCommandsAsync(afterDeliveries: false);
        store.Release();
        await server.CheckpointLeasesAsync();

        Assert.Equal(CommandStatus.Delivered, (await server.Store.GetCommandAsync(id, Ct))!.Status);
        Assert.Equal(["command.queued", "command.delivered"], await EventTypesAsync(client, id));
    }

    /// <summary>A server with one agent and one steer, whose stream has read the frame while the write of its delivery is held.</summary>
    private static async Task<HeldDelivery> HandOutWithTheWriteHeldAsync(string agentId, TimeProvider? time = null, int ttl = 300)
    {
        var server = await MeshTestServer.StartAsync(time: time, settings: s_quiet, configure: HeldWriteMeshStore.Install(out var store));
        var client = server.CreateClient();
        await client.JoinAsync(agentId);
        var id = await SteerAsync(client, agentId, ttl);
        store.HoldNextWrite();
        var stream = await SseReader.OpenAsync(client, $"{Api}/agents/{agentId}/commands");
        var frame = await stream.NextOfTypeAsync("command");
        await store.Held.WaitAsync(TimeSpan.FromSeconds(20), Ct);
        return new HeldDelivery(server, client, store, stream, frame, id);
    }

    private sealed record HeldDelivery(MeshTestServer Server, HttpClient Client, HeldWriteMeshStore Store, SseReader Stream, SseFrame Frame, string CommandId) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            // A test that failed early leaves the write held: let it go, so the server can stop.
            Store.Release();
            await Stream.DisposeAsync();
            Client.Dispose();
            await Server.DisposeAsync();
        }
    }

    private static async Task<string> SteerAsync(HttpClient client, string agentId, int ttl = 300)
    {
        var command = (await client.PostReplyAsync($"{Api}/steer", $$"""{"agent_id": "{{agentId}}", "direction": "north", "ttl": {{ttl}}}""")).Expect(HttpStatusCode.OK).Json;
        Assert.Equal("queued", command.GetProperty("status").GetString());
        return command.GetProperty("command_id").GetString()!;
    }

    private static async Task<List<string>> EventTypesAsync(HttpClient client, string commandId)
    {
        var events = (await client.GetReplyAsync($"{Api}/events?since=0")).Expect(HttpStatusCode.OK).Json.GetProperty("items");
        return events.EnumerateArray()
            .Where(e => e.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Object && data.TryGetProperty("command_id", out var c) && c.GetString() == commandId)
            .Select(e => e.GetProperty("type").GetString()!)
            .ToList();
    }
}
