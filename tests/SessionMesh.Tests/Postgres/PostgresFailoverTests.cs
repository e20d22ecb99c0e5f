using System.Net;
using System.Text.Json;
using SessionMesh.Client;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Postgres;

/// <summary>Replicas dying (kill -9) while agents keep working through the others.</summary>
public sealed class PostgresFailoverTests
{
    private const string Api = "api/session-mesh";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Killing_the_expiry_leader_hands_expiry_to_another_replica_and_no_lease_expires_early()
    {
        await using var database = await PostgresTestDatabase.CreateAsync(Ct);
        await using var replicas = await PostgresReplicas.StartAsync(database, 3);
        var leader = await replicas.WaitForLeaderAsync();

        // Heartbeats round-robin over the replicas keep these alive; "quitter" stops at once and must expire, but not early.
        const int ttl = 5;
        var alive = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            alive.Add(await JoinAsync(replicas[i % replicas.Count], $"worker-{i}", ttl));
        }
        var quitterJoined = DateTimeOffset.UtcNow;
        var quitter = await JoinAsync(replicas[0], "quitter", ttl);
        var up = Enumerable.Range(0, replicas.Count).ToList();
        var beats = 0;

        // One heartbeat for each session, all at once, each through the next replica still up.
        async Task HeartbeatRoundAsync()
        {
            var round = alive.Select(async sessionId =>
            {
                var replica = up[Interlocked.Increment(ref beats) % up.Count];
                var reply = await replicas[replica].PostReplyAsync($"{Api}/sessions/{sessionId}/heartbeat", "{}");
                Assert.True(reply.Status == HttpStatusCode.OK, $"heartbeat of {sessionId} through replica {replica}: {(int)reply.Status} {reply.Body}");
            });
            await Task.WhenAll(round);
        }

        // Two TTLs of round-robin heartbeats under the first leader, a kill -9 of it, then on until a new leader ran for two TTLs more.
        var until = DateTimeOffset.UtcNow.AddSeconds(2 * ttl);
        while (DateTimeOffset.UtcNow < until)
        {
            await HeartbeatRoundAsync();
            await Task.Delay(TimeSpan.FromMilliseconds(500), Ct);
        }
        await replicas.KillAsync(leader);
        up.Remove(leader);
        var takeover = replicas.WaitForLeaderAsync(except: leader);
        while (!takeover.IsCompleted)
        {
            await HeartbeatRoundAsync();
            await Task.Delay(TimeSpan.FromMilliseconds(500), Ct);
        }
        var successor = await takeover;
        until = DateTimeOffset.UtcNow.AddSeconds(2 * ttl);
        while (DateTimeOffset.UtcNow < until)
        {
            await HeartbeatRoundAsync();
            await Task.Delay(TimeSpan.FromMilliseconds(500), Ct);
        }

        // Every session kept alive is open and active.
        foreach (var sessionId in alive)
        {
            var json = (await replicas[successor].GetReplyAsync($"{Api}/sessions/{sessionId}")).Expect(HttpStatusCode.OK).Json;
            Assert.True(json.GetProperty("status").GetString() == "active", json.ToString());
        }

        // The quitter expired (through whichever leader), and never before its TTL and grace.
        var session = await WaitForAsync(async () =>
        {
            var json = (await replicas[successor].GetReplyAsync($"{Api}/sessions/{quitter}")).Expect(HttpStatusCode.OK).Json;
            // Past its grace it shows as expired at once; ended_at comes when the leader's sweep ends it.
            return json.TryGetProperty("ended_at", out _) ? json : (JsonElement?)null;
        });
        Assert.Equal("expired", session.GetProperty("status").GetString());
        Assert.True(session.GetProperty("ended_at").GetDateTimeOffset() >= quitterJoined.AddSeconds(2 * ttl), session.ToString());
        // No event lost: the history is every revision once, from 1 up.
        var revisions = await AllRevisionsAsync(replicas[successor]);
        Assert.Equal(Enumerable.Range(1, revisions.Count).Select(r => (long)r), revisions);
    }

    [Fact]
    public async Task An_agent_whose_replica_is_killed_reconnects_to_another_and_receives_what_was_queued_meanwhile()
    {
        await using var database = await PostgresTestDatabase.CreateAsync(Ct);
        await using var replicas = await PostgresReplicas.StartAsync(database, 3);
        // The agent knows replicas 1 and 2, as a client behind no load balancer would; it starts on 1.
        using var client = new SessionMeshClient(new SessionMeshClientOptions
        {
            Server = new Uri(replicas.Address(1)),
            FailoverServers = [new Uri(replicas.Address(2))],
            SessionKey = PostgresReplicas.RootKey,
            RetryBaseDelay = TimeSpan.FromMilliseconds(50),
        });
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TestTimeouts.Event * 2);
        await using var agent = await MeshAgent.JoinAsync(client, new MeshAgentOptions { AgentId = "roamer", Ttl = 60 }, timeout.Token);
        await using var commands = agent.ReadCommandsAsync(timeout.Token).GetAsyncEnumerator(timeout.Token);

        (await replicas[2].PostReplyAsync($"{Api}/steer", """{"agent_id": "roamer", "direction": "first"}""")).Expect(HttpStatusCode.OK);
        Assert.True(await commands.MoveNextAsync());
        Assert.Equal("first", commands.Current.Direction);
        Assert.Equal(new Uri(replicas.Address(1)), client.Server);

        await replicas.KillAsync(1);
        (await replicas[0].PostReplyAsync($"{Api}/steer", """{"agent_id": "roamer", "direction": "while away"}""")).Expect(HttpStatusCode.OK);
        Assert.True(await commands.MoveNextAsync());
        Assert.Equal("while away", commands.Current.Direction);
        Assert.Equal(new Uri(replicas.Address(2)), client.Server);

        (await replicas[0].PostReplyAsync($"{Api}/steer", """{"agent_id": "roamer", "direction": "after"}""")).Expect(HttpStatusCode.OK);
        Assert.True(await commands.MoveNextAsync());
        Assert.Equal("after", commands.Current.Direction);
        // The session stayed the one it joined: heartbeats went on through the other replica.
        var session = (await replicas[0].GetReplyAsync($"{Api}/sessions/{agent.Session.SessionId}")).Expect(HttpStatusCode.OK).Json;
        Assert.Equal("active", session.GetProperty("status").GetString());
    }

    private static async Task<string> JoinAsync(HttpClient replica, string agentId, int ttl) =>
        (await replica.PostReplyAsync($"{Api}/sessions", $$"""{"agent_id": "{{agentId}}", "ttl": {{ttl}}}""")).Expect(HttpStatusCode.Created)
            .Json.GetProperty("session_id").GetString()!;

    private static async Task<List<long>> AllRevisionsAsync(HttpClient replica)
    {
        var revisions = new List<long>();
        while (true)
        {
            var page = (await replica.GetReplyAsync($"{Api}/events?since={(revisions.Count > 0 ? revisions[^1] : 0)}&limit=1000")).Expect(HttpStatusCode.OK).Json;
            var items = page.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("revision").GetInt64()).ToList();
            if (items.Count == 0)
            {
                return revisions;
            }
            revisions.AddRange(items);
        }
    }

    private static async Task<T> WaitForAsync<T>(Func<Task<T?>> probe) where T : struct
    {
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            if (await probe() is { } found)
            {
                return found;
            }
            Assert.True(DateTimeOffset.UtcNow < deadline, "The condition did not come true within 30 s.");
            await Task.Delay(TimeSpan.FromMilliseconds(100), Ct);
        }
    }
}
