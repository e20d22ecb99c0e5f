using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Server;

/// <summary>The sweeper works in batches; a batch full of sessions it has already marked stale must not stop it.</summary>
public sealed class SweepInvariantTests
{
    private const string Api = "api/session-mesh";

    /// <summary>More than one sweep batch (500) of lapsed sessions.</summary>
    private const int Many = 510;

    [Fact]
    public async Task A_sweep_expires_a_session_past_its_grace_behind_more_than_a_batch_of_already_stale_ones()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        // The test runs every sweep itself: the background one would race it as the fake clock moves.
        await using var server = await MeshTestServer.StartAsync(time: time, settings: new Dictionary<string, string> { ["Mesh:SweepInterval"] = "1.00:00:00" });
        using var root = server.CreateClient();
        var ct = TestContext.Current.CancellationToken;

        // t0: the many join with a long lease (expire at t0+100, grace until t0+200).
        var many = new ConcurrentBag<(string SessionId, DateTimeOffset ExpiresAt)>();
        await Parallel.ForEachAsync(Enumerable.Range(0, Many), new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = ct }, async (i, _) =>
        {
            var reply = (await root.PostReplyAsync($"{Api}/sessions", $$"""{"agent_id": "many-{{i}}", "ttl": 100}""")).Expect(HttpStatusCode.Created);
            many.Add((reply.Json.GetProperty("session_id").GetString()!, reply.Json.GetProperty("expires_at").GetDateTimeOffset()));
        });

        // t0+101: all of them stale; one sweep marks them, past the first batch.
        time.Advance(TimeSpan.FromSeconds(101));
        await server.SweepSessionsAsync();
        var staleMarked = (await EventsAsync(root)).Where(e => Type(e) == "session.stale").Select(SessionId).ToHashSet(StringComparer.Ordinal);
        Assert.True(staleMarked.SetEquals(many.Select(m => m.SessionId)), $"One sweep should mark all {Many} lapsed sessions stale; it marked {staleMarked.Count}.");

        // A short lease joined now expires at t0+102, after every one of the many, so it sorts behind them all.
        var late = (await root.PostReplyAsync($"{Api}/sessions", """{"agent_id": "late", "ttl": 1}""")).Expect(HttpStatusCode.Created).Json;
        var lateId = late.GetProperty("session_id").GetString()!;
        Assert.True(late.GetProperty("expires_at").GetDateTimeOffset() > many.Max(m => m.ExpiresAt), "the late session must sort after the many");
        // t0+104: the late one is past its grace (t0+103); the many are still within theirs.
        time.Advance(TimeSpan.FromSeconds(3));
        var beforeSweep = (await root.GetReplyAsync($"{Api}/sessions/{lateId}")).Expect(HttpStatusCode.OK).Json;
        Assert.False(beforeSweep.TryGetProperty("ended_at", out _), $"Only a sweep should end it: {beforeSweep}");

        await server.SweepSessionsAsync();

        var swept = (await root.GetReplyAsync($"{Api}/sessions/{lateId}")).Expect(HttpStatusCode.OK).Json;
        Assert.True(swept.TryGetProperty("ended_at", out _), $"The sweep did not end it: {swept}");
        Assert.Equal("expired", swept.GetProperty("status").GetString());
        Assert.Equal("ttl elapsed", swept.GetProperty("end_reason").GetString());
        var stillStale = (await root.GetReplyAsync($"{Api}/sessions/{many.First().SessionId}")).Expect(HttpStatusCode.OK).Json;
        Assert.Equal("stale", stillStale.GetProperty("status").GetString());
        Assert.Equal(["session.joined", "session.expired"], (await EventsAsync(root)).Where(e => SessionId(e) == lateId).Select(Type));
    }

    private static string? Type(JsonElement e) => e.GetProperty("type").GetString();

    private static string? SessionId(JsonElement e) => e.TryGetProperty("session_id", out var id) ? id.GetString() : null;

    /// <summary>The whole event history, page by page.</summary>
    private static async Task<List<JsonElement>> EventsAsync(HttpClient client)
    {
        var all = new List<JsonElement>();
        for (long since = 0; ;)
        {
            var page = (await client.GetReplyAsync($"{Api}/events?since={since}&limit=1000")).Expect(HttpStatusCode.OK).Json.GetProperty("items").EnumerateArray().ToList();
            all.AddRange(page);
            if (page.Count < 1000)
            {
                return all;
            }
            since = page[^1].GetProperty("revision").GetInt64();
        }
    }
}
