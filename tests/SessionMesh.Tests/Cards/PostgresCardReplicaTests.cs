using System.Net;
using System.Text.Json.Nodes;
using SessionMesh.Tests.Infrastructure;
using SessionMesh.Tests.Postgres;

namespace SessionMesh.Tests.Cards;

/// <summary>Cards on two <c>serve</c> replicas sharing one PostgreSQL database.</summary>
public sealed class PostgresCardReplicaTests
{
    private const string Api = "api/session-mesh";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_card_put_through_one_replica_is_served_and_found_through_the_other()
    {
        await using var database = await PostgresTestDatabase.CreateAsync(Ct);
        await using var replicas = await PostgresReplicas.StartAsync(database, 2);
        var card = SampleCards.Card("shared", "translate");

        (await replicas[0].SendReplyAsync(HttpMethod.Put, $"{Api}/agents/shared/card", card.ToJsonString())).Expect(HttpStatusCode.Created);
        await replicas[1].JoinAsync("shared");

        var served = (await replicas[1].GetReplyAsync($"{Api}/agents/shared/.well-known/agent-card.json")).Expect(HttpStatusCode.OK);
        Assert.True(JsonNode.DeepEquals(card, JsonNode.Parse(served.Body)), served.Body);
        var found = (await replicas[1].GetReplyAsync($"{Api}/registry?specialization=translate&format=a2a")).Expect(HttpStatusCode.OK).Json.GetProperty("items");
        var item = Assert.Single(found.EnumerateArray());
        Assert.True(item.GetProperty("alive").GetBoolean());
        (await replicas[1].DeleteReplyAsync($"{Api}/agents/shared/card")).Expect(HttpStatusCode.OK);
        (await replicas[0].GetReplyAsync($"{Api}/agents/shared/card")).ExpectProblem(HttpStatusCode.NotFound, "card_not_found");
        Assert.Empty((await replicas[0].GetReplyAsync($"{Api}/registry?specialization=translate")).Expect(HttpStatusCode.OK).Json.GetProperty("items").EnumerateArray());
    }
}
