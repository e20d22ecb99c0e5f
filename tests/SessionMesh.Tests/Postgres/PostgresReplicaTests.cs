using System.Net;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Postgres;

/// <summary>Three <c>serve</c> replicas as real processes on one PostgreSQL database.</summary>
public sealed class PostgresReplicaTests
{
    private const string Api = "api/session-mesh";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Steers_through_every_other_replica_reach_each_stream_once_and_a_watcher_sees_one_ordered_history()
    {
        await using var database = await PostgresTestDatabase.CreateAsync(Ct);
        await using var replicas = await PostgresReplicas.StartAsync(database, 3);
        var streams = new List<SseReader>();
        try
        {
            await using var watch = await SseReader.OpenAsync(replicas[0], $"{Api}/events?since=0");
            for (var i = 0; i < replicas.Count; i++)
            {
                await replicas[i].JoinAsync($"agent-{i}");
                streams.Add(await SseReader.OpenAsync(replicas[i], $"{Api}/agents/agent-{i}/commands"));
            }
            var steered = new List<string>();
            for (var i = 0; i < replicas.Count; i++)
            {
                for (var j = 0; j < replicas.Count; j++)
                {
                    if (j != i)
                    {
                        var reply = (await replicas[j].PostReplyAsync($"{Api}/steer", $$"""{"agent_id": "agent-{{i}}", "direction": "from {{j}}"}""")).Expect(HttpStatusCode.OK);
                        steered.Add(reply.Json.GetProperty("command_id").GetString()!);
                    }
                }
            }
            for (var i = 0; i < replicas.Count; i++)
            {
                var directions = new List<string>();
                for (var n = 0; n < replicas.Count - 1; n++)
                {
                    directions.Add((await streams[i].NextOfTypeAsync("command")).Json.GetProperty("direction").GetString()!);
                }
                var expected = Enumerable.Range(0, replicas.Count).Where(j => j != i).Select(j => $"from {j}");
                Assert.Equal(expected.Order(), directions.Order());
                // Once each: a last steer through the stream's own replica is the very next command frame.
                (await replicas[i].PostReplyAsync($"{Api}/steer", $$"""{"agent_id": "agent-{{i}}", "direction": "last"}""")).Expect(HttpStatusCode.OK);
                Assert.Equal("last", (await streams[i].NextOfTypeAsync("command")).Json.GetProperty("direction").GetString());
            }

            // One history, in order: every revision once, increasing, with every steer's command.queued in it.
            var revisions = new List<long>();
            var queued = new HashSet<string>();
            while (queued.Count < steered.Count + replicas.Count)
            {
                var frame = await watch.NextAsync() ?? throw new InvalidOperationException("The watch closed.");
                if (frame.Id is null)
                {
                    continue;
                }
                revisions.Add(long.Parse(frame.Id, System.Globalization.CultureInfo.InvariantCulture));
                if (frame.Event == "command.queued")
                {
                    Assert.True(queued.Add(frame.Json.GetProperty("data").GetProperty("command_id").GetString()!), "a command.queued event came twice");
                }
            }
            Assert.Equal(Enumerable.Range(1, revisions.Count).Select(r => (long)r), revisions);
            Assert.Superset(steered.ToHashSet(), queued);
        }
        finally
        {
            foreach (var stream in streams)
            {
                await stream.DisposeAsync();
            }
        }
    }
    [Fact]
    public async Task A_steer_through_another_replica_answers_delivered_once_the_stream_there_takes_it()
    {
        await using var database = await PostgresTestDatabase.CreateAsync(Ct);
        await using var replicas = await PostgresReplicas.StartAsync(database, 2);
        await replicas[0].JoinAsync("far");
        await using var stream = await SseReader.OpenAsync(replicas[1], $"{Api}/agents/far/commands");

        // Replica 0 hears of the stream on replica 1 a moment after it opens: until then a steer answers queued (and
        // still arrives). Each steer's frame is read before the next, so the stream sees every one once, in order.
        var deadline = DateTimeOffset.UtcNow + TestTimeouts.Event;
        string status;
        var n = 0;
        do
        {
            n++;
            var reply = (await replicas[0].PostReplyAsync($"{Api}/steer", $$"""{"agent_id": "far", "direction": "probe {{n}}"}""")).Expect(HttpStatusCode.OK).Json;
            status = reply.GetProperty("status").GetString()!;
            Assert.True(status is "queued" or "delivered", reply.ToString());
            Assert.Equal($"probe {n}", (await stream.NextOfTypeAsync("command")).Json.GetProperty("direction").GetString());
            if (status == "delivered")
            {
                Assert.True(reply.TryGetProperty("delivered_at", out _), reply.ToString());
            }
        }
        while (status != "delivered" && DateTimeOffset.UtcNow < deadline);
        Assert.Equal("delivered", status);
    }

    [Fact]
    public async Task A_session_ended_through_another_replica_ends_its_stream_at_once_not_at_the_next_renewal()
    {
        await using var database = await PostgresTestDatabase.CreateAsync(Ct);
        await using var replicas = await PostgresReplicas.StartAsync(database, 2);
        // TTL 300: the stream renews (and so would look at the session anyway) only every 15 s.
        (await replicas[0].PostReplyAsync($"{Api}/sessions", """{"agent_id": "twice", "ttl": 300}""")).Expect(HttpStatusCode.Created);
        await using var stream = await SseReader.OpenAsync(replicas[1], $"{Api}/agents/twice/commands");
        await stream.NextOfTypeAsync("lease");

        (await replicas[0].PostReplyAsync($"{Api}/sessions", """{"agent_id": "twice", "ttl": 300}""")).Expect(HttpStatusCode.Created);

        // The join's notifications wake the stream on replica 1, which must see its session ended then, though the
        // replica learns of the ended lease by a read of its own that may finish after the wake.
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(5);
        SseFrame? frame;
        do
        {
            frame = await stream.NextAsync(deadline - DateTimeOffset.UtcNow);
        }
        while (frame is { Event: not "end" });
        Assert.NotNull(frame);
        Assert.Equal("superseded", frame.Json.GetProperty("status").GetString());
    }
}
