using System.Net;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Server;

public sealed class EventAndTopologyTests
{
    private const string Api = "api/session-mesh";

    [Fact]
    public async Task A_watcher_sees_every_change_of_a_scenario_once_in_order()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        await using var watch = await SseReader.OpenAsync(client, $"{Api}/events");

        var session = (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "a", "specializations": ["ocr"]}""")).Json.GetProperty("session_id").GetString();
        var command = (await client.PostReplyAsync($"{Api}/steer", """{"agent_id": "a", "direction": "up"}""")).Json.GetProperty("command_id").GetString();
        (await client.GetReplyAsync($"{Api}/agents/a/commands")).Expect(HttpStatusCode.OK);
        (await client.PostReplyAsync($"{Api}/agents/a/commands/{command}/ack", """{"status": "rejected"}""")).Expect(HttpStatusCode.OK);
        (await client.DeleteReplyAsync($"{Api}/registry/a/ocr")).Expect(HttpStatusCode.OK);
        (await client.DeleteReplyAsync($"{Api}/sessions/{session}")).Expect(HttpStatusCode.OK);

        var expected = new[] { "agent.registered", "session.joined", "command.queued", "command.delivered", "command.rejected", "agent.unregistered", "session.left" };
        var frames = new List<SseFrame>();
        while (frames.Count < expected.Length)
        {
            frames.Add(await watch.NextOfTypeAsync(expected[frames.Count]));
        }
        var revisions = frames.Select(f => long.Parse(f.Id!, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(revisions.Order(), revisions);
        Assert.Equal(revisions.Count, revisions.Distinct().Count());
        Assert.Equal(frames.Select(f => f.Json.GetProperty("revision").GetInt64()), revisions);
        Assert.Equal($"id: {frames[1].Id}\nevent: session.joined\ndata: {frames[1].Data}\n\n".Length, frames[1].Raw.Length);
        Assert.StartsWith("event: session.joined\ndata: {", frames[1].Raw, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Events_resume_from_a_revision()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "r1"}""")).Expect(HttpStatusCode.Created);
        var all = (await client.GetReplyAsync($"{Api}/events?since=0")).Expect(HttpStatusCode.OK).Json.GetProperty("items");
        var mark = all[all.GetArrayLength() - 1].GetProperty("revision").GetInt64();
        (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "r2"}""")).Expect(HttpStatusCode.Created);

        await using var resumed = await SseReader.OpenAsync(client, $"{Api}/events?since={mark}");
        var next = await resumed.NextOfTypeAsync("session.joined");

        Assert.Equal("r2", next.Json.GetProperty("agent_id").GetString());
        Assert.Equal(mark + 1, long.Parse(next.Id!, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Since_older_than_retained_history_is_410_revision_compacted()
    {
        await using var server = await MeshTestServer.StartAsync(settings: new Dictionary<string, string> { ["Mesh:EventRetention"] = "2" });
        using var client = server.CreateClient();
        for (var i = 0; i < 5; i++)
        {
            (await client.PostReplyAsync($"{Api}/sessions", $$"""{"agent_id": "e{{i}}"}""")).Expect(HttpStatusCode.Created);
        }
        await server.ApplyRetentionAsync();

        (await client.GetReplyAsync($"{Api}/events?since=1")).ExpectProblem(HttpStatusCode.Gone, "revision_compacted");
        var latest = await server.Store.GetLatestRevisionAsync(TestContext.Current.CancellationToken);
        var recent = (await client.GetReplyAsync($"{Api}/events?since={latest - 2}")).Expect(HttpStatusCode.OK).Json.GetProperty("items");
        Assert.Equal(2, recent.GetArrayLength());
    }

    [Fact]
    public async Task Topology_as_json_dot_and_mermaid_marks_status_and_orphans()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "boss"}""")).Expect(HttpStatusCode.Created);
        (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "worker", "parent_id": "boss"}""")).Expect(HttpStatusCode.Created);
        (await client.DeleteReplyAsync($"{Api}/agents/boss?force=true&cascade=false")).Expect(HttpStatusCode.OK);

        var json = (await client.GetReplyAsync($"{Api}/topology")).Expect(HttpStatusCode.OK).Json;
        var dot = (await client.GetReplyAsync($"{Api}/topology?format=dot")).Expect(HttpStatusCode.OK);
        var mermaid = (await client.GetReplyAsync($"{Api}/topology?format=mermaid")).Expect(HttpStatusCode.OK);

        var worker = json.GetProperty("nodes").EnumerateArray().Single(n => n.GetProperty("agent_id").GetString() == "worker");
        Assert.True(worker.GetProperty("orphaned").GetBoolean());
        Assert.Equal("killed", json.GetProperty("nodes").EnumerateArray().Single(n => n.GetProperty("agent_id").GetString() == "boss").GetProperty("status").GetString());
        Assert.Equal("boss", json.GetProperty("edges")[0].GetProperty("from").GetString());
        Assert.Equal("text/vnd.graphviz", dot.ContentType);
        Assert.Contains("\"boss\" -> \"worker\";", dot.Body, StringComparison.Ordinal);
        Assert.Contains("worker\\nactive (orphaned)", dot.Body, StringComparison.Ordinal);
        Assert.StartsWith("flowchart TD\n", mermaid.Body, StringComparison.Ordinal);
        Assert.Contains("n0 --> n1", mermaid.Body, StringComparison.Ordinal);
        Assert.Contains(":::orphaned", mermaid.Body, StringComparison.Ordinal);
        (await client.GetReplyAsync($"{Api}/topology?format=png")).ExpectProblem(HttpStatusCode.BadRequest, "validation_failed");
    }
}
