using System.Net;
using System.Text.Json;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Server;

/// <summary>Every page has a byte budget (Mesh:MaxPageBytes) as well as a count; the topology has a bound.</summary>
public sealed class PageBudgetTests
{
    private const string Api = "api/session-mesh";
    private const int Budget = 4096;

    private static Dictionary<string, string> Settings(int budget = Budget) => new() { ["Mesh:MaxPageBytes"] = budget.ToString(System.Globalization.CultureInfo.InvariantCulture) };

    private static async Task SteerBigAsync(HttpClient client, string agentId, int count, int payloadChars = 1500)
    {
        for (var i = 0; i < count; i++)
        {
            (await client.PostReplyAsync($"{Api}/steer", $$"""{"agent_id": "{{agentId}}", "direction": "go {{i}}", "payload": "{{new string('p', payloadChars)}}", "queue_if_offline": true}""")).Expect(HttpStatusCode.OK);
        }
    }

    [Fact]
    public async Task An_events_page_stops_at_the_byte_budget_and_reading_on_from_its_last_revision_gets_every_event()
    {
        await using var server = await MeshTestServer.StartAsync(settings: Settings());
        using var client = server.CreateClient();
        await client.JoinAsync("big");
        await SteerBigAsync(client, "big", 6);

        var revisions = new List<long>();
        long since = 0;
        while (true)
        {
            var page = (await client.GetReplyAsync($"{Api}/events?since={since}&limit=1000")).Expect(HttpStatusCode.OK);
            var items = page.Json.GetProperty("items");
            if (items.GetArrayLength() == 0)
            {
                break;
            }
            Assert.True(page.Body.Length <= Budget + 200 || items.GetArrayLength() == 1, $"A page of {page.Body.Length} bytes with {items.GetArrayLength()} items.");
            revisions.AddRange(items.EnumerateArray().Select(e => e.GetProperty("revision").GetInt64()));
            since = revisions[^1];
        }

        var latest = (await client.GetReplyAsync($"{Api}/events?since=0&limit=1")).Json.GetProperty("items")[0].GetProperty("revision").GetInt64();
        Assert.Equal(Enumerable.Range((int)latest, revisions.Count).Select(r => (long)r), revisions);
        Assert.Contains(revisions, r => r > 6);
    }

    [Fact]
    public async Task One_item_larger_than_the_budget_is_still_answered_alone()
    {
        await using var server = await MeshTestServer.StartAsync(settings: Settings(1024));
        using var client = server.CreateClient();
        await client.JoinAsync("huge");
        await SteerBigAsync(client, "huge", 2, payloadChars: 3000);

        var poll = (await client.GetReplyAsync($"{Api}/agents/huge/commands?limit=1000")).Expect(HttpStatusCode.OK);

        Assert.Equal(1, poll.Json.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task A_long_poll_page_stops_at_the_byte_budget_and_its_cursor_hands_out_the_rest_in_order()
    {
        await using var server = await MeshTestServer.StartAsync(settings: Settings());
        using var client = server.CreateClient();
        await client.JoinAsync("poller");
        await SteerBigAsync(client, "poller", 6);

        var directions = new List<string>();
        string? cursor = null;
        var pages = 0;
        while (directions.Count < 6 && pages++ < 10)
        {
            var poll = (await client.GetReplyAsync($"{Api}/agents/poller/commands?limit=1000{(cursor is null ? "" : "&cursor=" + cursor)}")).Expect(HttpStatusCode.OK);
            var items = poll.Json.GetProperty("items");
            Assert.InRange(items.GetArrayLength(), 1, 2);
            directions.AddRange(items.EnumerateArray().Select(c => c.GetProperty("direction").GetString()!));
            cursor = poll.Json.GetProperty("next_cursor").GetString();
        }

        Assert.Equal(Enumerable.Range(0, 6).Select(i => $"go {i}"), directions);
    }

    [Fact]
    public async Task A_list_page_stops_at_the_byte_budget_with_a_cursor_to_the_rest()
    {
        await using var server = await MeshTestServer.StartAsync(settings: Settings());
        using var client = server.CreateClient();
        var labels = string.Join(", ", Enumerable.Range(0, 8).Select(i => $"\"k{i}\": \"{new string('v', 250)}\""));
        for (var i = 0; i < 4; i++)
        {
            (await client.PostReplyAsync($"{Api}/sessions", $$$"""{"agent_id": "labelled-{{{i}}}", "labels": {{{{labels}}}}}""")).Expect(HttpStatusCode.Created);
        }

        var agents = new List<string>();
        string? cursor = null;
        do
        {
            var page = (await client.GetReplyAsync($"{Api}/alive?limit=1000{(cursor is null ? "" : "&cursor=" + cursor)}")).Expect(HttpStatusCode.OK);
            Assert.InRange(page.Json.GetProperty("items").GetArrayLength(), 1, 2);
            agents.AddRange(page.Json.GetProperty("items").EnumerateArray().Select(s => s.GetProperty("agent_id").GetString()!));
            cursor = page.Json.TryGetProperty("next_cursor", out var next) ? next.GetString() : null;
        }
        while (cursor is not null);

        Assert.Equal(4, agents.Distinct().Count());
        Assert.Equal(4, agents.Count);
    }

    [Fact]
    public async Task The_topology_is_bounded_by_max_agents_and_says_when_it_is_truncated()
    {
        await using var server = await MeshTestServer.StartAsync(settings: new Dictionary<string, string> { ["Mesh:MaxTopologyAgents"] = "3" });
        using var client = server.CreateClient();
        foreach (var id in new[] { "a1", "a2", "a3", "a4" })
        {
            await client.JoinAsync(id);
        }

        var capped = (await client.GetReplyAsync($"{Api}/topology")).Expect(HttpStatusCode.OK).Json;
        var two = (await client.GetReplyAsync($"{Api}/topology?max_agents=2")).Expect(HttpStatusCode.OK).Json;
        var dot = (await client.GetReplyAsync($"{Api}/topology?max_agents=2&format=dot")).Expect(HttpStatusCode.OK).Body;
        var tooMany = (await client.GetReplyAsync($"{Api}/topology?max_agents=4")).ExpectProblem(HttpStatusCode.BadRequest, "validation_failed").Json;

        Assert.True(capped.GetProperty("truncated").GetBoolean());
        Assert.Equal(3, capped.GetProperty("nodes").GetArrayLength());
        Assert.Equal(["a1", "a2"], two.GetProperty("nodes").EnumerateArray().Select(n => n.GetProperty("agent_id").GetString()));
        Assert.Contains("truncated", dot, StringComparison.Ordinal);
        Assert.Equal("max_agents", tooMany.GetProperty("field").GetString());
    }

    [Fact]
    public async Task A_topology_that_fits_is_not_marked_truncated()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        await client.JoinAsync("only");

        var topology = (await client.GetReplyAsync($"{Api}/topology?max_agents=1")).Expect(HttpStatusCode.OK).Json;

        Assert.False(topology.TryGetProperty("truncated", out _));
        Assert.Equal(1, topology.GetProperty("nodes").GetArrayLength());
    }
}
