using System.Collections.Concurrent;
using System.Net;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Postgres;

/// <summary>PostgreSQL going away and coming back while replicas take requests.</summary>
public sealed class PostgresRestartTests
{
    private const string Api = "api/session-mesh";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Replicas_recover_by_themselves_from_a_database_restart_under_load_and_lose_nothing_acknowledged()
    {
        await using var cluster = await PostgresCluster.StartAsync();
        await using var database = await PostgresTestDatabase.CreateAsync(Ct, cluster.ConnectionString);
        await using var replicas = await PostgresReplicas.StartAsync(database, 2);

        // Load: joins through both replicas, all the time; each 201 is an acknowledged write.
        var acknowledged = new ConcurrentBag<string>();
        var refused = new ConcurrentBag<string>();
        using var stopLoad = new CancellationTokenSource();
        var load = Task.Run(async () =>
        {
            for (var i = 0; !stopLoad.IsCancellationRequested; i++)
            {
                var reply = await replicas[i % 2].PostReplyAsync($"{Api}/sessions", $$"""{"agent_id": "load-{{i}}", "ttl": 600}""");
                if (reply.Status == HttpStatusCode.Created)
                {
                    acknowledged.Add(reply.Json.GetProperty("session_id").GetString()!);
                }
                else
                {
                    refused.Add($"{(int)reply.Status} {reply.ContentType} {reply.Code}");
                }
            }
        }, Ct);

        await WaitUntilAsync(() => Task.FromResult(acknowledged.Count >= 10));
        await cluster.PauseAsync();
        await WaitUntilAsync(async () => (await replicas[0].GetReplyAsync("/readyz")).Status == HttpStatusCode.ServiceUnavailable);
        await WaitUntilAsync(() => Task.FromResult(refused.Count >= 3));
        await cluster.ResumeAsync();
        for (var i = 0; i < replicas.Count; i++)
        {
            var replica = i;
            await WaitUntilAsync(async () => (await replicas[replica].GetReplyAsync("/readyz")).Status == HttpStatusCode.OK);
        }
        var before = acknowledged.Count;
        await WaitUntilAsync(() => Task.FromResult(acknowledged.Count >= before + 10));
        await stopLoad.CancelAsync();
        await load;

        // While it was away, requests were refused as 503 problems, never as 500s.
        Assert.All(refused, r => Assert.Equal("503 application/problem+json store_unavailable", r));
        // Every acknowledged join is there, seen from both replicas.
        foreach (var sessionId in acknowledged)
        {
            for (var i = 0; i < replicas.Count; i++)
            {
                (await replicas[i].GetReplyAsync($"{Api}/sessions/{sessionId}")).Expect(HttpStatusCode.OK);
            }
        }
        // Delivery across replicas works again: the listeners reconnected.
        await replicas[1].JoinAsync("after-restart");
        await using var stream = await SseReader.OpenAsync(replicas[1], $"{Api}/agents/after-restart/commands");
        (await replicas[0].PostReplyAsync($"{Api}/steer", """{"agent_id": "after-restart", "direction": "on"}""")).Expect(HttpStatusCode.OK);
        Assert.Equal("on", (await stream.NextOfTypeAsync("command")).Json.GetProperty("direction").GetString());
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(60);
        while (!await condition())
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, "The condition did not come true within 60 s.");
            await Task.Delay(TimeSpan.FromMilliseconds(100), Ct);
        }
    }
}
