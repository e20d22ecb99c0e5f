using System.Net;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Server;

public sealed class CommandDurabilityTests
{
    private const string Api = "api/session-mesh";

    [Fact]
    public async Task Queued_and_unacked_commands_survive_a_restart_and_revisions_continue()
    {
        using var temp = new TempDirectory();
        var dataDir = temp.Path;
        string rootKey;
        long lastRevision;
        await using (var server = await MeshTestServer.StartAsync(dataDir))
        {
            rootKey = server.RootKey;
            using var client = server.CreateClient();
            (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "present", "ttl": 600}""")).Expect(HttpStatusCode.Created);
            (await client.PostReplyAsync($"{Api}/registry", """{"specialization": "s", "agent_id": "absent"}""")).Expect(HttpStatusCode.Created);
            (await client.PostReplyAsync($"{Api}/steer", """{"agent_id": "absent", "direction": "later", "queue_if_offline": true}""")).Expect(HttpStatusCode.OK);
            (await client.PostReplyAsync($"{Api}/steer", """{"agent_id": "present", "direction": "unacked"}""")).Expect(HttpStatusCode.OK);
            var delivered = (await client.GetReplyAsync($"{Api}/agents/present/commands")).Json.GetProperty("items");
            Assert.Equal("unacked", delivered[0].GetProperty("direction").GetString());
            lastRevision = await server.Store.GetLatestRevisionAsync(TestContext.Current.CancellationToken);
        }

        await using var restarted = await MeshTestServer.StartAsync(dataDir, rootKey: rootKey);
        using var again = restarted.CreateClient();
        await using var present = await SseReader.OpenAsync(again, $"{Api}/agents/present/commands");
        Assert.Equal("unacked", (await present.NextOfTypeAsync("command")).Json.GetProperty("direction").GetString());

        (await again.PostReplyAsync($"{Api}/sessions", """{"agent_id": "absent"}""")).Expect(HttpStatusCode.Created);
        await using var absent = await SseReader.OpenAsync(again, $"{Api}/agents/absent/commands");
        Assert.Equal("later", (await absent.NextOfTypeAsync("command")).Json.GetProperty("direction").GetString());

        var events = (await again.GetReplyAsync($"{Api}/events?since={lastRevision}")).Expect(HttpStatusCode.OK).Json.GetProperty("items");
        Assert.All(events.EnumerateArray(), e => Assert.True(e.GetProperty("revision").GetInt64() > lastRevision));
        Assert.Contains(events.EnumerateArray(), e => e.GetProperty("type").GetString() == "session.joined");
    }
}
