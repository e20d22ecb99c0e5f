using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using SessionMesh.Contracts;
using SessionMesh.Mesh;
using SessionMesh.Server.Auth;
using SessionMesh.Server.Hosting;
using static Microsoft.AspNetCore.Http.StatusCodes;

namespace SessionMesh.Server.Endpoints;

/// <summary>
/// A2A Agent Cards: each agent's card under the API, and the mesh's own card at <c>/.well-known/agent-card.json</c>, the
/// A2A discovery URL, which needs no key (A2A clients read it to learn how to authenticate) and says nothing of the fleet.
/// </summary>
internal static class CardEndpoints
{
    public const string WellKnownPath = "/.well-known/agent-card.json";

    public static RouteGroupBuilder MapCards(this RouteGroupBuilder api, IEndpointRouteBuilder app)
    {
        var cards = api.MapGroup("/agents").WithTags("Agent cards");
        cards.MapPut("/{agent_id}/card", Put).WithSummary("Store the agent's A2A Agent Card; its skills become the agent's specializations (201 first card, 200 replaced or unchanged).")
            .ProducesProblems(Status400BadRequest, Status403Forbidden, Status404NotFound, Status413PayloadTooLarge);
        cards.MapGet("/{agent_id}/card", Get).WithSummary("The agent's A2A Agent Card as stored.").ProducesProblems(Status403Forbidden, Status404NotFound);
        cards.MapGet("/{agent_id}" + WellKnownPath, Get).WithSummary("The agent's A2A Agent Card, at the path A2A clients that discover by URL ask for.").ProducesProblems(Status403Forbidden, Status404NotFound);
        cards.MapDelete("/{agent_id}/card", Delete).WithSummary("Remove the agent's card and the specializations its skills made.").ProducesProblems(Status403Forbidden, Status404NotFound);
        app.MapGet(WellKnownPath, MeshCard).WithTags("Agent cards").WithSummary("The mesh itself as an A2A agent catalog: its API and security scheme; no key needed.").AllowAnonymous();
        return api;
    }

    private static async Task<Results<Created<AgentCardEntry>, Ok<AgentCardEntry>>> Put(
        [FromRoute(Name = "agent_id")] string agentId, [FromBody] JsonElement? card, string? cluster, ClaimsPrincipal user, CardService cards, CancellationToken cancellationToken)
    {
        var (entry, created) = await cards.PutAsync(user.Caller(), agentId, card, cluster, cancellationToken);
        return created ? TypedResults.Created($"/api/session-mesh/agents/{entry.AgentId}/card", entry) : TypedResults.Ok(entry);
    }

    private static async Task<Ok<JsonElement>> Get([FromRoute(Name = "agent_id")] string agentId, string? cluster, ClaimsPrincipal user, CardService cards, CancellationToken cancellationToken) =>
        TypedResults.Ok(await cards.GetAsync(user.Caller(), agentId, cluster, cancellationToken));

    private static async Task<Ok<AgentCardEntry>> Delete([FromRoute(Name = "agent_id")] string agentId, string? cluster, ClaimsPrincipal user, CardService cards, CancellationToken cancellationToken) =>
        TypedResults.Ok(await cards.DeleteAsync(user.Caller(), agentId, cluster, cancellationToken));

    private static Ok<JsonElement> MeshCard(HttpContext context, IOptions<MeshServerOptions> options)
    {
        var request = context.Request;
        // A2A's caching advice: the card changes only with the server's version (and, without a public URL, with the
        // address asked for, which caches key on).
        context.Response.Headers.CacheControl = "public, max-age=300";
        var address = options.Value.PublicUrl is { } publicUrl ? publicUrl.TrimEnd('/') : $"{request.Scheme}://{request.Host}{request.PathBase}";
        return TypedResults.Ok(MeshAgentCard.Build(address));
    }
}
