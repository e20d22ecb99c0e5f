using System.Net;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Postgres;

/// <summary>A key's rate limit is the whole mesh's: replicas on one database each allow their share.</summary>
public sealed class PostgresRateLimitTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Replicas_count_each_other_and_split_a_keys_burst_between_them()
    {
        await using var database = await PostgresTestDatabase.CreateAsync(Ct);
        // A burst of 6 for the mesh, refilled by 1 a second: 3 for each of two replicas.
        await using var replicas = await PostgresReplicas.StartAsync(database, 2, environment: null, "--Server:RateLimitBurst=6", "--Server:RateLimitPerSecond=1");
        await WaitForReplicasAsync(replicas[0], 2);
        await WaitForReplicasAsync(replicas[1], 2);

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 12; i++)
        {
            statuses.Add((await replicas[i % 2].GetReplyAsync("api/session-mesh/keys/self")).Status);
        }

        var accepted = statuses.Count(s => s == HttpStatusCode.OK);
        // 3 a replica, and at most one more each if a second turns over during the loop; one replica alone would take 6.
        Assert.InRange(accepted, 6, 8);
        Assert.All(statuses, s => Assert.True(s is HttpStatusCode.OK or HttpStatusCode.TooManyRequests, $"{s}"));

        // A replica gone: the one left counts itself alone and allows the whole limit again.
        await replicas.KillAsync(1);
        await WaitForReplicasAsync(replicas[0], 1);
    }

    private static async Task WaitForReplicasAsync(HttpClient replica, int count)
    {
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var ready = (await replica.GetReplyAsync("readyz")).Expect(HttpStatusCode.OK).Json;
            if (ready.GetProperty("replicas").GetInt32() == count)
            {
                return;
            }
            Assert.True(DateTimeOffset.UtcNow < deadline, $"/readyz did not count {count} replicas within 30 s: {ready}");
            await Task.Delay(TimeSpan.FromMilliseconds(100), Ct);
        }
    }
}
