using System.Net;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Server;

public sealed class RegistryApiTests
{
    private const string Api = "api/session-mesh";

    [Fact]
    public async Task Seed_registry_body_declares_an_agent_that_never_joined()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();

        var entry = (await client.PostReplyAsync($"{Api}/registry", """{"specialization": "image-processing", "agent_id": "123"}""")).Expect(HttpStatusCode.Created).Json;

        Assert.Equal("123", entry.GetProperty("agent_id").GetString());
        Assert.Equal("image-processing", entry.GetProperty("specialization").GetString());
        Assert.False(entry.GetProperty("alive").GetBoolean());
        var agent = (await client.GetReplyAsync($"{Api}/agents/123")).Expect(HttpStatusCode.OK).Json;
        Assert.False(agent.GetProperty("alive").GetBoolean());
        Assert.False(agent.TryGetProperty("session", out _));
        Assert.Equal("image-processing", agent.GetProperty("specializations")[0].GetProperty("name").GetString());
    }

    [Fact]
    public async Task Registering_the_same_thing_twice_is_200_and_a_change_is_kept()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        var created = (await client.PostReplyAsync($"{Api}/registry", """{"specialization": "ocr", "agent_id": "a"}""")).Expect(HttpStatusCode.Created).Json;
        Assert.True(created.GetProperty("changed").GetBoolean());

        var same = (await client.PostReplyAsync($"{Api}/registry", """{"specialization": "ocr", "agent_id": "a"}""")).Expect(HttpStatusCode.OK).Json;
        Assert.False(same.GetProperty("changed").GetBoolean());
        var changed = (await client.PostReplyAsync($"{Api}/registry", """{"specialization": "ocr", "agent_id": "a", "description": "reads scans", "tags": ["vision"], "version": "2"}""")).Expect(HttpStatusCode.OK).Json;
        Assert.True(changed.GetProperty("changed").GetBoolean());
        // Lookups show where the entry stands, not what a call did.
        Assert.False((await client.GetReplyAsync($"{Api}/registry?specialization=ocr")).Expect(HttpStatusCode.OK).Json.GetProperty("items")[0].TryGetProperty("changed", out _));

        Assert.Equal("reads scans", changed.GetProperty("description").GetString());
        Assert.Equal("2", changed.GetProperty("version").GetString());
        Assert.Equal("vision", changed.GetProperty("tags")[0].GetString());
    }

    [Fact]
    public async Task Lookup_puts_alive_agents_first_and_least_loaded_first()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        (await client.PostReplyAsync($"{Api}/registry", """{"specialization": "gpu", "agent_id": "declared-only"}""")).Expect(HttpStatusCode.Created);
        foreach (var (agent, load) in new[] { ("busy", 0.9), ("calm", 0.1), ("mid", 0.5) })
        {
            var id = (await client.PostReplyAsync($"{Api}/sessions", $$"""{"agent_id": "{{agent}}", "specializations": ["gpu"]}""")).Json.GetProperty("session_id").GetString();
            (await client.PostReplyAsync($"{Api}/sessions/{id}/heartbeat", $$"""{"load": {{load}}}""")).Expect(HttpStatusCode.OK);
        }

        var all = (await client.GetReplyAsync($"{Api}/registry?specialization=gpu")).Expect(HttpStatusCode.OK).Json.GetProperty("items");
        var alive = (await client.GetReplyAsync($"{Api}/registry?specialization=gpu&alive=true")).Expect(HttpStatusCode.OK).Json.GetProperty("items");

        Assert.Equal(["calm", "mid", "busy", "declared-only"], all.EnumerateArray().Select(e => e.GetProperty("agent_id").GetString()));
        Assert.Equal(["calm", "mid", "busy"], alive.EnumerateArray().Select(e => e.GetProperty("agent_id").GetString()));
        Assert.True(alive[0].GetProperty("alive").GetBoolean());
        Assert.Equal(0.1, alive[0].GetProperty("load").GetDouble());
    }

    [Fact]
    public async Task Lookup_pages_with_a_cursor()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        for (var i = 0; i < 5; i++)
        {
            (await client.PostReplyAsync($"{Api}/registry", $$"""{"specialization": "s", "agent_id": "agent-{{i}}"}""")).Expect(HttpStatusCode.Created);
        }

        var seen = new List<string?>();
        string? cursor = null;
        do
        {
            var page = (await client.GetReplyAsync($"{Api}/registry?specialization=s&limit=2" + (cursor is null ? "" : $"&cursor={cursor}"))).Expect(HttpStatusCode.OK).Json;
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("agent_id").GetString()));
            cursor = page.TryGetProperty("next_cursor", out var next) ? next.GetString() : null;
        }
        while (cursor is not null);

        Assert.Equal(["agent-0", "agent-1", "agent-2", "agent-3", "agent-4"], seen);
    }

    [Fact]
    public async Task Specializations_summary_counts_agents_and_alive_agents()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        (await client.PostReplyAsync($"{Api}/registry", """{"specialization": "ocr", "agent_id": "sleeper"}""")).Expect(HttpStatusCode.Created);
        (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "runner", "specializations": ["ocr", "nlp"]}""")).Expect(HttpStatusCode.Created);

        var items = (await client.GetReplyAsync($"{Api}/registry/specializations")).Expect(HttpStatusCode.OK).Json.GetProperty("items")
            .EnumerateArray().ToDictionary(e => e.GetProperty("specialization").GetString()!, e => (e.GetProperty("agents").GetInt32(), e.GetProperty("alive").GetInt32()));

        Assert.Equal((2, 1), items["ocr"]);
        Assert.Equal((1, 1), items["nlp"]);
    }

    [Fact]
    public async Task Unregister_removes_the_registration_and_unknowns_are_404()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        (await client.PostReplyAsync($"{Api}/registry", """{"specialization": "ocr", "agent_id": "a"}""")).Expect(HttpStatusCode.Created);

        var removed = (await client.DeleteReplyAsync($"{Api}/registry/a/ocr")).Expect(HttpStatusCode.OK).Json;

        Assert.True(removed.GetProperty("removed").GetBoolean());
        Assert.Equal(0, (await client.GetReplyAsync($"{Api}/registry?specialization=ocr")).Json.GetProperty("items").GetArrayLength());
        (await client.DeleteReplyAsync($"{Api}/registry/a/ocr")).ExpectProblem(HttpStatusCode.NotFound, "specialization_not_found");
        (await client.DeleteReplyAsync($"{Api}/registry/ghost/ocr")).ExpectProblem(HttpStatusCode.NotFound, "agent_not_found");
    }

    [Fact]
    public async Task Alive_filters_by_specialization_label_and_parent()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "root", "labels": {"tier": "lead"}}""")).Expect(HttpStatusCode.Created);
        (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "c1", "parent_id": "root", "labels": {"tier": "worker", "zone": "eu"}, "specializations": ["ocr"]}""")).Expect(HttpStatusCode.Created);
        (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "c2", "parent_id": "root", "labels": {"tier": "worker", "zone": "us"}}""")).Expect(HttpStatusCode.Created);

        async Task<string?[]> Agents(string query) =>
            (await client.GetReplyAsync($"{Api}/alive?{query}")).Expect(HttpStatusCode.OK).Json.GetProperty("items")
                .EnumerateArray().Select(e => e.GetProperty("agent_id").GetString()).Order().ToArray();

        Assert.Equal(["c1"], await Agents("specialization=ocr"));
        Assert.Equal(["c1", "c2"], await Agents("label=tier=worker"));
        Assert.Equal(["c2"], await Agents("label=tier=worker&label=zone=us"));
        Assert.Equal(["c1", "c2"], await Agents("parent_id=root"));
        Assert.Equal(["c1", "c2", "root"], await Agents("filter=all"));
    }

    [Fact]
    public async Task Agent_read_includes_session_specializations_children_and_tree()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "lead", "specializations": ["plan"]}""")).Expect(HttpStatusCode.Created);
        (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "sub-1", "parent_id": "lead"}""")).Expect(HttpStatusCode.Created);
        (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "sub-1.a", "parent_id": "sub-1"}""")).Expect(HttpStatusCode.Created);

        var lead = (await client.GetReplyAsync($"{Api}/agents/lead")).Expect(HttpStatusCode.OK).Json;
        var tree = (await client.GetReplyAsync($"{Api}/agents/lead/tree")).Expect(HttpStatusCode.OK).Json;
        var list = (await client.GetReplyAsync($"{Api}/agents")).Expect(HttpStatusCode.OK).Json.GetProperty("items");

        Assert.Equal("active", lead.GetProperty("status").GetString());
        Assert.Equal("active", lead.GetProperty("session").GetProperty("status").GetString());
        Assert.Equal("plan", lead.GetProperty("specializations")[0].GetProperty("name").GetString());
        Assert.Equal("sub-1", lead.GetProperty("children")[0].GetString());
        Assert.Equal("sub-1.a", tree.GetProperty("children")[0].GetProperty("children")[0].GetProperty("agent_id").GetString());
        Assert.Equal(["lead", "sub-1", "sub-1.a"], list.EnumerateArray().Select(a => a.GetProperty("agent_id").GetString()));
        (await client.GetReplyAsync($"{Api}/agents/ghost")).ExpectProblem(HttpStatusCode.NotFound, "agent_not_found");
        (await client.GetReplyAsync($"{Api}/agents/ghost/tree")).ExpectProblem(HttpStatusCode.NotFound, "agent_not_found");
    }

    [Fact]
    public async Task A_fleet_is_declared_with_parents_and_labels_before_it_starts()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();

        (await client.SendReplyAsync(HttpMethod.Put, $"{Api}/agents/lead", """{"labels": {"tier": "lead"}}""")).Expect(HttpStatusCode.Created);
        var worker = (await client.SendReplyAsync(HttpMethod.Put, $"{Api}/agents/worker", """{"parent_id": "lead", "labels": {"tier": "worker"}}""")).Expect(HttpStatusCode.Created).Json;
        var again = (await client.SendReplyAsync(HttpMethod.Put, $"{Api}/agents/worker", """{"parent_id": "lead"}""")).Expect(HttpStatusCode.OK).Json;

        Assert.Equal("lead", worker.GetProperty("parent_id").GetString());
        Assert.False(worker.GetProperty("alive").GetBoolean());
        Assert.Equal("worker", again.GetProperty("labels").GetProperty("tier").GetString());
        Assert.Equal("worker", (await client.GetReplyAsync($"{Api}/agents/lead")).Json.GetProperty("children")[0].GetString());
        // The declared place holds when the agent joins without repeating it.
        var session = (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "worker"}""")).Expect(HttpStatusCode.Created).Json;
        Assert.Equal("lead", session.GetProperty("parent_id").GetString());
        Assert.Equal("worker", session.GetProperty("labels").GetProperty("tier").GetString());
        (await client.SendReplyAsync(HttpMethod.Put, $"{Api}/agents/x", """{"parent_id": "nobody"}""")).ExpectProblem(HttpStatusCode.NotFound, "parent_not_found");
        (await client.SendReplyAsync(HttpMethod.Put, $"{Api}/agents/lead", """{"parent_id": "worker"}""")).ExpectProblem(HttpStatusCode.Conflict, "parent_cycle");
        (await client.SendReplyAsync(HttpMethod.Put, $"{Api}/agents/lead", """{"parent": "worker"}""")).ExpectProblem(HttpStatusCode.BadRequest, "validation_failed");
    }
}
