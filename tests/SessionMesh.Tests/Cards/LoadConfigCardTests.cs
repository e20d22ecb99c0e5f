using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using SessionMesh.Tests.Cli;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Cards;

/// <summary><c>session-mesh load-config</c> with an agent's A2A card file, against a real server.</summary>
public sealed class LoadConfigCardTests
{
    private const string Api = "api/session-mesh";

    [Fact]
    public async Task A_card_file_next_to_the_yaml_is_stored_and_applying_again_changes_nothing_until_the_file_does()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var http = server.CreateClient();
        using var cli = new CliHarness().WithServer(server.BaseAddress, server.RootKey);
        var card = SampleCards.Card("reviewer", "code-review");
        cli.WriteFile("fleet/cards/reviewer.json", card.ToJsonString());
        var file = cli.WriteFile("fleet/fleet.yaml", "sessions:\n  - id: reviewer\n    labels: {team: qa}\n    card: ./cards/reviewer.json\n");

        var first = (await cli.RunProcessAsync("load-config", file, "--output", "json")).Expect(0);
        var again = (await cli.RunAsync("load-config", file, "--output", "json")).Expect(0);
        cli.WriteFile("fleet/cards/reviewer.json", SampleCards.Json("reviewer", "code-review", "security-review"));
        var changed = (await cli.RunAsync("load-config", file, "--output", "json")).Expect(0);

        Assert.Equal("create", CardAction(first.Out));
        Assert.Equal("unchanged", CardAction(again.Out));
        Assert.Equal("update", CardAction(changed.Out));
        var stored = (await http.GetReplyAsync($"{Api}/agents/reviewer/card")).Expect(HttpStatusCode.OK);
        Assert.Equal(2, JsonNode.Parse(stored.Body)!["skills"]!.AsArray().Count);
        var found = (await http.GetReplyAsync($"{Api}/registry?specialization=security-review")).Expect(HttpStatusCode.OK).Json.GetProperty("items");
        Assert.Equal("reviewer", Assert.Single(found.EnumerateArray()).GetProperty("agent_id").GetString());
        var agent = (await http.GetReplyAsync($"{Api}/agents/reviewer")).Expect(HttpStatusCode.OK).Json;
        Assert.Equal("qa", agent.GetProperty("labels").GetProperty("team").GetString());
    }

    [Fact]
    public async Task A_bad_card_file_is_reported_at_the_yaml_line_naming_the_field_and_nothing_is_applied()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var http = server.CreateClient();
        using var cli = new CliHarness().WithServer(server.BaseAddress, server.RootKey);
        var card = SampleCards.Card("broken", "a");
        card["skills"]![0]!.AsObject().Remove("id");
        cli.WriteFile("cards/broken.json", card.ToJsonString());
        cli.WriteFile("cards/not-json.json", "{\"name\": ");
        var file = cli.WriteFile("fleet.yaml",
            "sessions:\n  - id: first\n  - id: broken\n    card: cards/broken.json\n  - id: garbled\n    card: cards/not-json.json\n  - id: missing\n    card: cards/none.json\n");

        var run = (await cli.RunAsync("load-config", file)).Expect(1);

        Assert.Contains($"{file}:4:11: error: card cards/broken.json: not a valid A2A Agent Card: 'skills[0].id' is required", run.Error, StringComparison.Ordinal);
        Assert.Contains($"{file}:6:11: error: card cards/not-json.json: not JSON", run.Error, StringComparison.Ordinal);
        Assert.Contains($"{file}:8:11: error: card cards/none.json: cannot read", run.Error, StringComparison.Ordinal);
        (await http.GetReplyAsync($"{Api}/agents/first")).ExpectProblem(HttpStatusCode.NotFound, "agent_not_found");
    }

    private static string? CardAction(string output) =>
        JsonDocument.Parse(output).RootElement.GetProperty("actions").EnumerateArray()
            .Single(a => a.GetProperty("kind").GetString() == "card").GetProperty("change").GetString();
}
