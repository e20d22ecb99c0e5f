using System.Text.Json;
using System.Text.Json.Nodes;
using SessionMesh.Client;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Cards;

/// <summary>The SDK's card calls against a real server.</summary>
public sealed class AgentCardClientTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Put_get_find_and_delete_a_card_through_the_sdk()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = new SessionMeshClient(new SessionMeshClientOptions { Server = server.BaseAddress, SessionKey = server.RootKey, Cluster = "fleet-a" });
        var card = SampleCards.Card("summarizer", "summarize");
        using var document = JsonDocument.Parse(card.ToJsonString());

        var (entry, created) = await client.PutCardAsync("summarizer", document.RootElement, Ct);
        var (_, createdAgain) = await client.PutCardAsync("summarizer", document.RootElement, Ct);
        var stored = await client.GetCardAsync("summarizer", Ct);
        var found = await client.ListRegistryCardsAsync("summarize", cancellationToken: Ct);
        var registry = await client.ListRegistryAsync("summarize", cancellationToken: Ct);
        var deleted = await client.DeleteCardAsync("summarizer", Ct);
        var gone = await Assert.ThrowsAsync<SessionMeshException>(() => client.GetCardAsync("summarizer", Ct));

        Assert.True(created);
        Assert.False(createdAgain);
        Assert.Equal("fleet-a", entry.Cluster);
        Assert.Equal(["summarize"], entry.Specializations);
        Assert.True(JsonNode.DeepEquals(card, JsonNode.Parse(stored.GetRawText())));
        Assert.Equal("summarizer", Assert.Single(found.Items).Card!.Value.GetProperty("name").GetString());
        Assert.Equal("summarizer", Assert.Single(registry.Items).AgentId);
        Assert.Equal(["summarize"], deleted.Removed);
        Assert.Equal("card_not_found", gone.Code);
    }
}
