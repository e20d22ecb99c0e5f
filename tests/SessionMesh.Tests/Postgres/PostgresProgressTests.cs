using System.Net;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Postgres;

/// <summary>Progress reported through one replica while another leads: stalls are judged from what every replica took.</summary>
public sealed class PostgresProgressTests
{
    private const string Api = "api/session-mesh";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Progress_reported_through_a_replica_that_does_not_lead_keeps_the_session_from_stalling()
    {
        await using var database = await PostgresTestDatabase.CreateAsync(Ct);
        await using var replicas = await PostgresReplicas.StartAsync(database, 2);
        var leader = await replicas.WaitForLeaderAsync();
        var reporter = replicas[1 - leader];
        await using var events = await SseReader.OpenAsync(replicas[leader], $"{Api}/events?since=0");
        var session = (await reporter.PostReplyAsync($"{Api}/sessions", """{"agent_id": "busy", "ttl": 60, "stall_after": 2, "on_stall": "kill"}"""))
            .Expect(HttpStatusCode.Created).Json.GetProperty("session_id").GetString()!;

        // Three stall periods of steady progress, all through the replica that does not lead.
        var until = DateTimeOffset.UtcNow.AddSeconds(6);
        for (var tokens = 1; DateTimeOffset.UtcNow < until; tokens++)
        {
            (await reporter.PostReplyAsync($"{Api}/sessions/{session}/progress", $$"""{"tokens": {{tokens * 100}}}""")).Expect(HttpStatusCode.OK);
            await Task.Delay(TimeSpan.FromMilliseconds(400), Ct);
        }
        // Neither a stall nor its kill came meanwhile.
        var meanwhile = await EventTypesAsync(replicas[leader]);
        Assert.DoesNotContain(meanwhile, t => t is "session.stalled" or "command.queued" or "agent.kill_requested");
        var status = (await replicas[leader].GetReplyAsync($"{Api}/sessions/{session}")).Expect(HttpStatusCode.OK).Json;
        Assert.True(status.GetProperty("status").GetString() == "active", status.ToString());

        // Then silence: the leader announces the stall, once.
        var stalled = await events.NextOfTypeAsync("session.stalled");
        Assert.Equal("busy", stalled.Json.GetProperty("agent_id").GetString());
        Assert.Equal(1, (await EventTypesAsync(replicas[leader])).Count(t => t == "session.stalled"));
    }

    private static async Task<List<string?>> EventTypesAsync(HttpClient replica) =>
        (await replica.GetReplyAsync($"{Api}/events?since=0&limit=1000")).Expect(HttpStatusCode.OK).Json
            .GetProperty("items").EnumerateArray().Select(e => e.GetProperty("type").GetString()).ToList();
}
