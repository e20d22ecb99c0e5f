using System.Net;
using Microsoft.Extensions.Time.Testing;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Server;

/// <summary>A burst of expiries larger than Mesh:ExpiryBurstFraction of the fleet is spread over several sweeps.</summary>
public sealed class ExpiryBurstTests
{
    private const string Api = "api/session-mesh";

    [Fact]
    public async Task A_whole_fleet_lapsing_at_once_expires_a_share_per_sweep()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await MeshTestServer.StartAsync(time: time, settings: new Dictionary<string, string>
        {
            ["Mesh:SweepInterval"] = "1.00:00:00",
            ["Mesh:ExpiryBurstFraction"] = "0.25",
        });
        using var root = server.CreateClient();
        var ct = TestContext.Current.CancellationToken;
        const int fleet = 400;
        await Parallel.ForEachAsync(Enumerable.Range(0, fleet), new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = ct }, async (i, _) =>
            (await root.PostReplyAsync($"{Api}/sessions", $$"""{"agent_id": "burst-{{i}}", "ttl": 10}""")).Expect(HttpStatusCode.Created));

        time.Advance(TimeSpan.FromSeconds(25));
        await server.SweepSessionsAsync();
        // A quarter of 400 is 100: that many expire now, the rest wait for the next sweeps.
        Assert.Equal(100, await CountExpiredAsync(root));
        await server.SweepSessionsAsync();
        Assert.True(await CountExpiredAsync(root) > 100, "the next sweep goes on with the rest");
        for (var sweep = 0; sweep < 10 && await CountExpiredAsync(root) < fleet; sweep++)
        {
            await server.SweepSessionsAsync();
        }
        Assert.Equal(fleet, await CountExpiredAsync(root));
    }

    private static async Task<int> CountExpiredAsync(HttpClient root)
    {
        var count = 0;
        long since = 0;
        while (true)
        {
            var items = (await root.GetReplyAsync($"{Api}/events?since={since}&limit=1000")).Expect(HttpStatusCode.OK).Json.GetProperty("items");
            if (items.GetArrayLength() == 0)
            {
                return count;
            }
            foreach (var e in items.EnumerateArray())
            {
                since = e.GetProperty("revision").GetInt64();
                count += e.GetProperty("type").GetString() == "session.expired" ? 1 : 0;
            }
        }
    }
}
