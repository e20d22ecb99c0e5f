using System.Net;
using System.Text.Json.Nodes;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Cards;

/// <summary>Who may read and write cards, cluster isolation, and the two well-known card URLs.</summary>
public sealed class AgentCardAccessTests
{
    private const string Api = "api/session-mesh";

    [Fact]
    public async Task The_mesh_card_needs_no_key_is_a_valid_card_and_names_nothing_of_the_fleet()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var admin = server.CreateClient();
        (await admin.SendReplyAsync(HttpMethod.Put, $"{Api}/agents/secret-planner/card", SampleCards.Json("secret-planner", "hidden-skill"))).Expect(HttpStatusCode.Created);
        await admin.JoinAsync("secret-planner");
        using var anonymous = new HttpClient { BaseAddress = server.BaseAddress };

        var reply = (await anonymous.GetReplyAsync(".well-known/agent-card.json")).Expect(HttpStatusCode.OK);

        Assert.Equal("application/json", reply.ContentType);
        var card = reply.Json;
        Assert.Equal("session-mesh", card.GetProperty("name").GetString());
        var api = card.GetProperty("supportedInterfaces")[0];
        Assert.Equal(new Uri(server.BaseAddress, Api).ToString(), api.GetProperty("url").GetString());
        Assert.Equal("session-mesh", api.GetProperty("protocolBinding").GetString());
        Assert.Equal("Bearer", card.GetProperty("securitySchemes").GetProperty("sessionKey").GetProperty("httpAuthSecurityScheme").GetProperty("scheme").GetString());
        Assert.DoesNotContain("secret-planner", reply.Body);
        Assert.DoesNotContain("hidden-skill", reply.Body);
        // The mesh's card passes the rules it holds agents' cards to.
        (await admin.SendReplyAsync(HttpMethod.Put, $"{Api}/agents/mesh-itself/card", reply.Body)).Expect(HttpStatusCode.Created);
    }

    [Fact]
    public async Task With_a_public_url_the_mesh_card_names_it_whatever_host_the_request_gives()
    {
        var settings = new Dictionary<string, string> { ["Server:PublicUrl"] = "https://mesh.example.com/edge/" };
        await using var server = await MeshTestServer.StartAsync(settings: settings);
        using var anonymous = new HttpClient { BaseAddress = server.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Get, ".well-known/agent-card.json");
        request.Headers.Host = "attacker.example";

        using var response = await anonymous.SendAsync(request, TestContext.Current.CancellationToken);
        var card = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("https://mesh.example.com/edge/api/session-mesh", card.GetProperty("supportedInterfaces")[0].GetProperty("url").GetString());
    }

    [Fact]
    public async Task An_agents_well_known_card_is_its_stored_card_and_needs_a_read_key()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var admin = server.CreateClient();
        var card = SampleCards.Card("translator", "translate");
        (await admin.SendReplyAsync(HttpMethod.Put, $"{Api}/agents/translator/card", card.ToJsonString())).Expect(HttpStatusCode.Created);
        using var reader = server.CreateClient(await MintAsync(admin, """{"scopes": ["read"]}"""));
        using var anonymous = new HttpClient { BaseAddress = server.BaseAddress };

        var served = (await reader.GetReplyAsync($"{Api}/agents/translator/.well-known/agent-card.json")).Expect(HttpStatusCode.OK);

        Assert.True(JsonNode.DeepEquals(card, JsonNode.Parse(served.Body)), served.Body);
        (await anonymous.GetReplyAsync($"{Api}/agents/translator/.well-known/agent-card.json")).ExpectProblem(HttpStatusCode.Unauthorized, "missing_key");
        (await reader.SendReplyAsync(HttpMethod.Put, $"{Api}/agents/translator/card", card.ToJsonString())).ExpectProblem(HttpStatusCode.Forbidden, "insufficient_scope");
        (await reader.DeleteReplyAsync($"{Api}/agents/translator/card")).ExpectProblem(HttpStatusCode.Forbidden, "insufficient_scope");
    }

    [Fact]
    public async Task An_agent_key_may_write_its_own_card_only_and_register_may_write_any()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var admin = server.CreateClient();
        using var self = server.CreateClient(await MintAsync(admin, """{"scopes": ["agent"], "agent_id": "self"}"""));
        using var registrar = server.CreateClient(await MintAsync(admin, """{"scopes": ["register"]}"""));

        (await self.SendReplyAsync(HttpMethod.Put, $"{Api}/agents/self/card", SampleCards.Json("self", "own"))).Expect(HttpStatusCode.Created);
        (await self.SendReplyAsync(HttpMethod.Put, $"{Api}/agents/other/card", SampleCards.Json("other", "theirs"))).ExpectProblem(HttpStatusCode.Forbidden, "agent_mismatch");
        (await registrar.SendReplyAsync(HttpMethod.Put, $"{Api}/agents/other/card", SampleCards.Json("other", "theirs"))).Expect(HttpStatusCode.Created);
        (await self.DeleteReplyAsync($"{Api}/agents/other/card")).ExpectProblem(HttpStatusCode.Forbidden, "agent_mismatch");
        (await self.DeleteReplyAsync($"{Api}/agents/self/card")).Expect(HttpStatusCode.OK);
    }

    [Fact]
    public async Task One_cluster_never_sees_another_clusters_cards()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var admin = server.CreateClient();
        (await admin.SendReplyAsync(HttpMethod.Put, $"{Api}/agents/shared-name/card?cluster=blue", SampleCards.Json("blue-card", "review"))).Expect(HttpStatusCode.Created);
        using var green = server.CreateClient(await MintAsync(admin, """{"scopes": ["read", "register"], "cluster": "green"}"""));

        (await green.GetReplyAsync($"{Api}/agents/shared-name/card")).ExpectProblem(HttpStatusCode.NotFound, "agent_not_found");
        (await green.GetReplyAsync($"{Api}/agents/shared-name/card?cluster=blue")).ExpectProblem(HttpStatusCode.NotFound, "cluster_not_found");
        Assert.Equal(0, (await green.GetReplyAsync($"{Api}/registry?specialization=review&format=a2a")).Expect(HttpStatusCode.OK).Json.GetProperty("items").GetArrayLength());
        (await green.SendReplyAsync(HttpMethod.Put, $"{Api}/agents/shared-name/card", SampleCards.Json("green-card", "other"))).Expect(HttpStatusCode.Created);

        var blue = (await admin.GetReplyAsync($"{Api}/agents/shared-name/card?cluster=blue")).Expect(HttpStatusCode.OK).Json;
        Assert.Equal("blue-card", blue.GetProperty("name").GetString());
        var blueCards = (await admin.GetReplyAsync($"{Api}/registry?specialization=review&format=a2a&cluster=blue")).Expect(HttpStatusCode.OK).Json.GetProperty("items");
        Assert.Equal("blue", Assert.Single(blueCards.EnumerateArray()).GetProperty("cluster").GetString());
        Assert.Equal("green-card", (await green.GetReplyAsync($"{Api}/agents/shared-name/card")).Expect(HttpStatusCode.OK).Json.GetProperty("name").GetString());
    }

    private static async Task<string> MintAsync(HttpClient admin, string body) =>
        (await admin.PostReplyAsync($"{Api}/keys", body)).Expect(HttpStatusCode.Created).Json.GetProperty("session_key").GetString()!;
}
