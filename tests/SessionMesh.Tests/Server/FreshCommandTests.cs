using System.Net;
using SessionMesh.Mesh;
using SessionMesh.Model;
using SessionMesh.Store;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Server;

/// <summary>
/// A stream that has read its backlog from the store takes the commands queued after that from memory
/// (<see cref="FreshCommands"/>): steers reach it without a store read, in order, once each; and whenever memory cannot
/// vouch for what follows the stream's cursor, the stream reads the store.
/// </summary>
public sealed class FreshCommandTests
{
    private const string Api = "api/session-mesh";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    // The default, set here so these tests hold whatever the default becomes.
    private static readonly Dictionary<string, string> s_fromMemory = new() { ["Mesh:StreamCommandsFromMemory"] = "true" };

    [Fact]
    public async Task Steers_reach_an_open_stream_without_a_store_read()
    {
        await using var server = await MeshTestServer.StartAsync(settings: s_fromMemory, configure: CountingMeshStore.Install(out var counter));
        using var client = server.CreateClient();
        await client.JoinAsync("fresh");
        await using var stream = await SseReader.OpenAsync(client, $"{Api}/agents/fresh/commands");
        await SteerAsync(client, "fresh", "first");
        Assert.Equal("first", (await stream.NextOfTypeAsync("command")).Json.GetProperty("direction").GetString());
        var readsAfterBacklog = counter.Calls(nameof(IMeshStore.ListPendingCommandsAsync));

        for (var i = 0; i < 20; i++)
        {
            await SteerAsync(client, "fresh", $"d{i}");
            Assert.Equal($"d{i}", (await stream.NextOfTypeAsync("command")).Json.GetProperty("direction").GetString());
        }

        Assert.Equal(readsAfterBacklog, counter.Calls(nameof(IMeshStore.ListPendingCommandsAsync)));
    }

    [Fact]
    public async Task A_steer_to_a_listening_agent_answers_delivered_without_reading_the_command_back()
    {
        await using var server = await MeshTestServer.StartAsync(settings: s_fromMemory, configure: CountingMeshStore.Install(out var counter));
        using var client = server.CreateClient();
        await client.JoinAsync("told");
        await using var stream = await SseReader.OpenAsync(client, $"{Api}/agents/told/commands");

        for (var i = 0; i < 10; i++)
        {
            var answer = (await client.PostReplyAsync($"{Api}/steer", $$"""{"agent_id": "told", "direction": "d{{i}}"}""")).Expect(HttpStatusCode.OK).Json;
            Assert.Equal("delivered", answer.GetProperty("status").GetString());
            Assert.Equal($"d{i}", (await stream.NextOfTypeAsync("command")).Json.GetProperty("direction").GetString());
        }

        // The hand-out is known in memory, before and after its write lands: no answer read the command from the store.
        Assert.Equal(0, counter.Calls(nameof(IMeshStore.GetCommandAsync)));
    }

    [Fact]
    public async Task Concurrent_steers_arrive_once_each_in_sequence_order()
    {
        await using var server = await MeshTestServer.StartAsync(settings: s_fromMemory);
        using var client = server.CreateClient();
        await client.JoinAsync("busy");
        await using var stream = await SseReader.OpenAsync(client, $"{Api}/agents/busy/commands");
        await SteerAsync(client, "busy", "warm-up");
        await stream.NextOfTypeAsync("command");

        const int Count = 60;
        await Task.WhenAll(Enumerable.Range(0, Count).Select(i => SteerAsync(client, "busy", $"c{i}")));
        var sequences = new List<long>();
        var directions = new HashSet<string>();
        for (var i = 0; i < Count; i++)
        {
            var frame = (await stream.NextOfTypeAsync("command")).Json;
            sequences.Add(frame.GetProperty("sequence").GetInt64());
            Assert.True(directions.Add(frame.GetProperty("direction").GetString()!), "a command was handed out twice");
        }

        Assert.Equal(Enumerable.Range(2, Count).Select(n => (long)n), sequences);
    }

    [Fact]
    public async Task The_steer_answer_and_the_command_read_agree_on_delivered()
    {
        await using var server = await MeshTestServer.StartAsync(settings: s_fromMemory);
        using var client = server.CreateClient();
        await client.JoinAsync("agree");
        await using var stream = await SseReader.OpenAsync(client, $"{Api}/agents/agree/commands");
        var answer = await SteerAsync(client, "agree", "east");
        var frame = (await stream.NextOfTypeAsync("command")).Json;
        await server.CheckpointLeasesAsync();

        var stored = (await client.GetReplyAsync($"{Api}/commands/{answer.GetProperty("command_id").GetString()}")).Expect(HttpStatusCode.OK).Json;
        Assert.Equal("delivered", stored.GetProperty("status").GetString());
        Assert.Equal(frame.GetProperty("delivered_at").GetString(), stored.GetProperty("delivered_at").GetString());
        if (answer.GetProperty("status").GetString() == "delivered")
        {
            // The answer learnt the hand-out from memory: the same time as the store's, and no expiry once delivered.
            Assert.Equal(stored.GetProperty("delivered_at").GetString(), answer.GetProperty("delivered_at").GetString());
            Assert.False(answer.TryGetProperty("expires_at", out var expires) && expires.ValueKind != System.Text.Json.JsonValueKind.Null);
        }
    }

    private static async Task<System.Text.Json.JsonElement> SteerAsync(HttpClient client, string agentId, string direction) =>
        (await client.PostReplyAsync($"{Api}/steer", $$"""{"agent_id": "{{agentId}}", "direction": "{{direction}}"}""")).Expect(HttpStatusCode.OK).Json;
}

/// <summary>The inbox rules: only the very next commands after the cursor, consecutive; anything else sends the stream to the store.</summary>
public sealed class FreshCommandInboxTests
{
    [Fact]
    public void An_inbox_hands_out_consecutive_commands_after_the_cursor_in_order_whatever_order_they_came_in()
    {
        var fresh = new FreshCommands(enabled: true);
        using var inbox = fresh.Open("c", "a");
        fresh.Post([Command(3), Command(1), Command(2)]);

        Assert.Equal([1L, 2L], inbox.TakeAfter(0, limit: 2)!.Select(c => c.Sequence));
        Assert.Equal([3L], inbox.TakeAfter(2, limit: 10)!.Select(c => c.Sequence));
        Assert.Empty(inbox.TakeAfter(3, limit: 10)!);
    }

    [Fact]
    public void A_gap_after_the_cursor_sends_the_stream_to_the_store_and_what_the_store_passed_is_dropped()
    {
        var fresh = new FreshCommands(enabled: true);
        using var inbox = fresh.Open("c", "a");
        fresh.Post([Command(4), Command(6)]);

        Assert.Null(inbox.TakeAfter(2, limit: 10));
        // The store read took the stream to 4; 5 was completed before it was handed out.
        Assert.Null(inbox.TakeAfter(4, limit: 10));
        Assert.Empty(inbox.TakeAfter(6, limit: 10)!);
    }

    [Fact]
    public void Only_the_agents_own_open_inboxes_get_its_commands()
    {
        var fresh = new FreshCommands(enabled: true);
        using var first = fresh.Open("c", "a");
        using var second = fresh.Open("c", "a");
        using var otherCluster = fresh.Open("d", "a");
        var closed = fresh.Open("c", "a");
        closed.Dispose();
        fresh.Post([Command(1)]);

        Assert.Single(first.TakeAfter(0, 10)!);
        Assert.Single(second.TakeAfter(0, 10)!);
        Assert.Empty(otherCluster.TakeAfter(0, 10)!);
    }

    [Fact]
    public void An_overflowing_inbox_sends_its_stream_to_the_store_once_then_works_again()
    {
        var fresh = new FreshCommands(enabled: true);
        using var inbox = fresh.Open("c", "a");
        fresh.Post(Enumerable.Range(1, FreshCommands.InboxCapacity + 1).Select(n => Command(n)));

        Assert.Null(inbox.TakeAfter(0, limit: 10));
        fresh.Post([Command(FreshCommands.InboxCapacity + 2)]);
        Assert.Equal([FreshCommands.InboxCapacity + 2L], inbox.TakeAfter(FreshCommands.InboxCapacity + 1, limit: 10)!.Select(c => c.Sequence));
    }

    [Fact]
    public void With_replicas_every_stream_reads_the_store()
    {
        var fresh = new FreshCommands(enabled: false);
        using var inbox = fresh.Open("c", "a");
        fresh.Post([Command(1)]);

        Assert.Null(inbox.TakeAfter(0, limit: 10));
    }

    private static CommandRecord Command(long sequence) => new(
        $"cmd-{sequence}", "c", "a", CommandKind.Steer, CommandStatus.Queued, sequence,
        "north", "inject", null, null, null, null, null, null,
        DateTimeOffset.UnixEpoch, null, null, DateTimeOffset.UnixEpoch.AddMinutes(5), "key", null);
}
