using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Cards;

public sealed class AgentCardApiTests
{
    private const string Api = "api/session-mesh";

    [Fact]
    public async Task A_card_round_trips_as_given_and_its_skills_become_specializations_found_in_the_registry()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        var card = SampleCards.Card("reviewer", "code-review", "lint");

        var put = (await client.SendReplyAsync(HttpMethod.Put, $"{Api}/agents/reviewer/card", card.ToJsonString())).Expect(HttpStatusCode.Created).Json;

        Assert.Equal("reviewer", put.GetProperty("agent_id").GetString());
        Assert.Equal(["code-review", "lint"], put.GetProperty("specializations").EnumerateArray().Select(s => s.GetString()));
        Assert.True(put.GetProperty("changed").GetBoolean());
        var stored = (await client.GetReplyAsync($"{Api}/agents/reviewer/card")).Expect(HttpStatusCode.OK);
        Assert.True(JsonNode.DeepEquals(card, JsonNode.Parse(stored.Body)), stored.Body);
        Assert.Contains("\"as given, é and all\"", stored.Body);

        var found = (await client.GetReplyAsync($"{Api}/registry?specialization=code-review")).Expect(HttpStatusCode.OK).Json.GetProperty("items");
        Assert.Equal("reviewer", Assert.Single(found.EnumerateArray()).GetProperty("agent_id").GetString());
        Assert.Equal("Does code-review.", found[0].GetProperty("description").GetString());
        Assert.Equal(["tests", "code-review"], found[0].GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal("1.2.0", found[0].GetProperty("version").GetString());
        // The agent never joined: the card declared it, as a registration does.
        var agent = (await client.GetReplyAsync($"{Api}/agents/reviewer")).Expect(HttpStatusCode.OK).Json;
        Assert.False(agent.GetProperty("alive").GetBoolean());

        var audit = (await client.GetReplyAsync($"{Api}/audit")).Expect(HttpStatusCode.OK).Json.GetProperty("items");
        Assert.Contains(audit.EnumerateArray(), e => e.GetProperty("method").GetString() == "PUT"
            && e.GetProperty("path").GetString() == "/api/session-mesh/agents/reviewer/card" && e.GetProperty("status").GetInt32() == 201);
        var events = (await client.GetReplyAsync($"{Api}/events?since=0&limit=1000")).Expect(HttpStatusCode.OK).Json.GetProperty("items");
        var updated = Assert.Single(events.EnumerateArray(), e => e.GetProperty("type").GetString() == "agent.card_updated");
        Assert.False(updated.GetProperty("data").TryGetProperty("card", out _));
    }

    [Fact]
    public async Task A_new_card_replaces_the_skills_of_the_previous_one_and_leaves_other_registrations_alone()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        (await client.PostReplyAsync($"{Api}/registry", """{"specialization": "manual", "agent_id": "worker"}""")).Expect(HttpStatusCode.Created);
        (await client.SendReplyAsync(HttpMethod.Put, $"{Api}/agents/worker/card", SampleCards.Json("worker", "a", "b"))).Expect(HttpStatusCode.Created);

        var replaced = (await client.SendReplyAsync(HttpMethod.Put, $"{Api}/agents/worker/card", SampleCards.Json("worker", "b", "c"))).Expect(HttpStatusCode.OK).Json;

        Assert.Equal(["a"], replaced.GetProperty("removed").EnumerateArray().Select(s => s.GetString()));
        Assert.Equal(["b", "c", "manual"], await SpecializationsOfAsync(client, "worker"));
        var again = (await client.SendReplyAsync(HttpMethod.Put, $"{Api}/agents/worker/card", SampleCards.Json("worker", "b", "c"))).Expect(HttpStatusCode.OK).Json;
        Assert.False(again.GetProperty("changed").GetBoolean());
        Assert.Equal(replaced.GetProperty("updated_at").GetString(), again.GetProperty("updated_at").GetString());
    }

    [Fact]
    public async Task Deleting_a_card_removes_its_skills_and_then_reading_it_is_card_not_found()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        (await client.PostReplyAsync($"{Api}/registry", """{"specialization": "manual", "agent_id": "worker"}""")).Expect(HttpStatusCode.Created);
        (await client.SendReplyAsync(HttpMethod.Put, $"{Api}/agents/worker/card", SampleCards.Json("worker", "a"))).Expect(HttpStatusCode.Created);

        var deleted = (await client.DeleteReplyAsync($"{Api}/agents/worker/card")).Expect(HttpStatusCode.OK).Json;

        Assert.Equal(["a"], deleted.GetProperty("removed").EnumerateArray().Select(s => s.GetString()));
        Assert.Equal(["manual"], await SpecializationsOfAsync(client, "worker"));
        (await client.GetReplyAsync($"{Api}/agents/worker/card")).ExpectProblem(HttpStatusCode.NotFound, "card_not_found");
        (await client.DeleteReplyAsync($"{Api}/agents/worker/card")).ExpectProblem(HttpStatusCode.NotFound, "card_not_found");
        (await client.GetReplyAsync($"{Api}/agents/nobody/card")).ExpectProblem(HttpStatusCode.NotFound, "agent_not_found");
    }

    public static TheoryData<string, string, string> InvalidCards => new()
    {
        { "name missing", """{"name": null}""", "name" },
        { "description empty", """{"description": " "}""", "description" },
        { "version a number", """{"version": 1}""", "version" },
        { "no interfaces", """{"supportedInterfaces": []}""", "supportedInterfaces" },
        { "interface without url", """{"supportedInterfaces": [{"protocolBinding": "JSONRPC", "protocolVersion": "1.0"}]}""", "supportedInterfaces[0].url" },
        { "capabilities not an object", """{"capabilities": true}""", "capabilities" },
        { "input modes missing", """{"defaultInputModes": null}""", "defaultInputModes" },
        { "output mode not a string", """{"defaultOutputModes": ["text/plain", 3]}""", "defaultOutputModes[1]" },
        { "skills missing", """{"skills": null}""", "skills" },
        { "third skill without id", """{"skills": [{"id": "a", "name": "A", "description": "d", "tags": []}, {"id": "b", "name": "B", "description": "d", "tags": []}, {"name": "C", "description": "d", "tags": []}]}""", "skills[2].id" },
        { "skill id not a specialization name", """{"skills": [{"id": "has space", "name": "A", "description": "d", "tags": []}]}""", "skills[0].id" },
        { "duplicate skill ids", """{"skills": [{"id": "a", "name": "A", "description": "d", "tags": []}, {"id": "a", "name": "A2", "description": "d", "tags": []}]}""", "skills[1].id" },
        { "skill without tags", """{"skills": [{"id": "a", "name": "A", "description": "d"}]}""", "skills[0].tags" },
        { "skill without name", """{"skills": [{"id": "a", "description": "d", "tags": []}]}""", "skills[0].name" },
        { "provider without organization", """{"provider": {"url": "https://example.com"}}""", "provider.organization" },
    };

    [Theory]
    [MemberData(nameof(InvalidCards))]
    public async Task An_invalid_card_is_refused_naming_the_field_and_nothing_is_stored(string why, string patch, string field)
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        var card = SampleCards.Card("broken", "a");
        foreach (var (key, value) in JsonNode.Parse(patch)!.AsObject())
        {
            card[key] = value?.DeepClone();
        }

        var refused = (await client.SendReplyAsync(HttpMethod.Put, $"{Api}/agents/broken/card", card.ToJsonString())).ExpectProblem(HttpStatusCode.BadRequest, "validation_failed");

        Assert.True(field == refused.Json.GetProperty("field").GetString(), $"{why}: {refused.Body}");
        (await client.GetReplyAsync($"{Api}/agents/broken")).ExpectProblem(HttpStatusCode.NotFound, "agent_not_found");
    }

    [Fact]
    public async Task A_card_with_protobuf_field_names_is_refused_with_the_camel_case_name_and_a_hint()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        var card = SampleCards.Card("snake", "a");
        card["supported_interfaces"] = card["supportedInterfaces"]!.DeepClone();
        card.Remove("supportedInterfaces");

        var refused = (await client.SendReplyAsync(HttpMethod.Put, $"{Api}/agents/snake/card", card.ToJsonString())).ExpectProblem(HttpStatusCode.BadRequest, "validation_failed").Json;

        Assert.Equal("supportedInterfaces", refused.GetProperty("field").GetString());
        Assert.Contains("camelCase", refused.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_body_that_is_not_a_card_object_is_refused()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();

        (await client.SendReplyAsync(HttpMethod.Put, $"{Api}/agents/x/card", "[1, 2]")).ExpectProblem(HttpStatusCode.BadRequest, "validation_failed");
        (await client.SendReplyAsync(HttpMethod.Put, $"{Api}/agents/x/card")).ExpectProblem(HttpStatusCode.BadRequest, "validation_failed");
        (await client.SendReplyAsync(HttpMethod.Put, $"{Api}/agents/x/card", "null")).ExpectProblem(HttpStatusCode.BadRequest, "validation_failed");
        (await client.SendReplyAsync(HttpMethod.Put, $"{Api}/agents/x/card", "{\"name\": ")).Expect(HttpStatusCode.BadRequest);
        (await client.SendReplyAsync(HttpMethod.Put, $"{Api}/agents/bad%20id/card", SampleCards.Json("x", "a"))).ExpectProblem(HttpStatusCode.BadRequest, "validation_failed");
    }

    [Fact]
    public async Task An_A2A_0_3_card_with_a_top_level_url_is_accepted()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        var card = SampleCards.Card("legacy", "a");
        card.Remove("supportedInterfaces");
        card["url"] = "https://agents.example.com/legacy";
        card["protocolVersion"] = "0.3.0";

        (await client.SendReplyAsync(HttpMethod.Put, $"{Api}/agents/legacy/card", card.ToJsonString())).Expect(HttpStatusCode.Created);
        card["url"] = "not a url";
        var refused = (await client.SendReplyAsync(HttpMethod.Put, $"{Api}/agents/legacy/card", card.ToJsonString())).ExpectProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.Equal("url", refused.Json.GetProperty("field").GetString());
    }

    [Fact]
    public async Task Format_a2a_returns_the_cards_of_matching_agents_alive_first_and_leaves_out_agents_without_one()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        (await client.SendReplyAsync(HttpMethod.Put, $"{Api}/agents/sleeper/card", SampleCards.Json("sleeper", "review"))).Expect(HttpStatusCode.Created);
        (await client.SendReplyAsync(HttpMethod.Put, $"{Api}/agents/runner/card", SampleCards.Json("runner", "review"))).Expect(HttpStatusCode.Created);
        await client.JoinAsync("runner");
        (await client.PostReplyAsync($"{Api}/registry", """{"specialization": "review", "agent_id": "cardless"}""")).Expect(HttpStatusCode.Created);

        var items = (await client.GetReplyAsync($"{Api}/registry?specialization=review&format=a2a")).Expect(HttpStatusCode.OK).Json.GetProperty("items");

        Assert.Equal(["runner", "sleeper"], items.EnumerateArray().Select(i => i.GetProperty("agent_id").GetString()));
        Assert.True(items[0].GetProperty("alive").GetBoolean());
        Assert.False(items[1].GetProperty("alive").GetBoolean());
        Assert.Equal("runner", items[0].GetProperty("card").GetProperty("name").GetString());
        Assert.Equal("review", items[0].GetProperty("card").GetProperty("skills")[0].GetProperty("id").GetString());
        var alive = (await client.GetReplyAsync($"{Api}/registry?specialization=review&alive=true&format=a2a")).Expect(HttpStatusCode.OK).Json.GetProperty("items");
        Assert.Equal("runner", Assert.Single(alive.EnumerateArray()).GetProperty("agent_id").GetString());
        (await client.GetReplyAsync($"{Api}/registry?specialization=review&format=yaml")).ExpectProblem(HttpStatusCode.BadRequest, "validation_failed");
    }

    [Fact]
    public async Task Format_a2a_pages_skip_agents_without_a_card_and_the_cursor_goes_on_past_them()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        foreach (var id in new[] { "a1", "a3", "a5" })
        {
            (await client.SendReplyAsync(HttpMethod.Put, $"{Api}/agents/{id}/card", SampleCards.Json(id, "s"))).Expect(HttpStatusCode.Created);
        }
        foreach (var id in new[] { "a2", "a4" })
        {
            (await client.PostReplyAsync($"{Api}/registry", $$"""{"specialization": "s", "agent_id": "{{id}}"}""")).Expect(HttpStatusCode.Created);
        }

        var seen = new List<string?>();
        string? cursor = null;
        do
        {
            var page = (await client.GetReplyAsync($"{Api}/registry?specialization=s&format=a2a&limit=2" + (cursor is null ? "" : $"&cursor={cursor}"))).Expect(HttpStatusCode.OK).Json;
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("agent_id").GetString()));
            cursor = page.TryGetProperty("next_cursor", out var next) ? next.GetString() : null;
        }
        while (cursor is not null);

        Assert.Equal(["a1", "a3", "a5"], seen);
    }

    private static async Task<List<string?>> SpecializationsOfAsync(HttpClient client, string agentId) =>
        (await client.GetReplyAsync($"{Api}/agents/{agentId}")).Expect(HttpStatusCode.OK).Json.GetProperty("specializations")
            .EnumerateArray().Select(s => s.GetProperty("name").GetString()).Order(StringComparer.Ordinal).ToList();
}
