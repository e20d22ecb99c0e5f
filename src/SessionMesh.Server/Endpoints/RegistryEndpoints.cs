using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using SessionMesh.Contracts;
using SessionMesh.Mesh;
using SessionMesh.Server.Auth;
using static Microsoft.AspNetCore.Http.StatusCodes;

namespace SessionMesh.Server.Endpoints;

/// <summary>The specialization registry.</summary>
internal static class RegistryEndpoints
{
    public static RouteGroupBuilder MapRegistry(this RouteGroupBuilder api)
    {
        var registry = api.MapGroup("/registry").WithTags("Registry");
        registry.MapPost("/", Register).WithSummary("Register a specialization for an agent (201 created; 200 updated or unchanged, with \"changed\").").ProducesProblems(Status400BadRequest, Status403Forbidden, Status404NotFound, Status413PayloadTooLarge);
        registry.MapGet("/", Find).WithSummary("Agents with a specialization, alive first, least loaded first; format=a2a for their A2A Agent Cards.").ProducesProblems(Status400BadRequest, Status403Forbidden, Status404NotFound);
        registry.MapGet("/specializations", Summarize).WithSummary("Every specialization with counts of agents and alive agents.").ProducesProblems(Status403Forbidden, Status404NotFound);
        registry.MapDelete("/{agent_id}/{specialization}", Unregister).WithSummary("Remove a registration.").ProducesProblems(Status403Forbidden, Status404NotFound);
        return api;
    }

    internal sealed record FindQuery(
        [property: FromQuery(Name = "specialization")] string? Specialization,
        [property: FromQuery(Name = "alive")] bool? Alive,
        [property: FromQuery(Name = "cluster")] string? Cluster,
        [property: FromQuery(Name = "limit")] int? Limit,
        [property: FromQuery(Name = "cursor")] string? Cursor,
        [property: FromQuery(Name = "format")] string? Format);

    private static async Task<Results<Created<RegistryEntry>, Ok<RegistryEntry>>> Register(RegisterRequest request, ClaimsPrincipal user, RegistryService registry, CancellationToken cancellationToken)
    {
        var (entry, created) = await registry.RegisterAsync(user.Caller(), request, cancellationToken);
        return created
            ? TypedResults.Created($"/api/session-mesh/agents/{entry.AgentId}", entry)
            : TypedResults.Ok(entry);
    }

    /// <summary>The registry's entries, or with <c>format=a2a</c> the matching agents' A2A Agent Cards (agents without one left out).</summary>
    private static async Task<Results<Ok<Page<RegistryEntry>>, Ok<Page<AgentCardEntry>>>> Find([AsParameters] FindQuery query, ClaimsPrincipal user, RegistryService registry, CardService cards, CancellationToken cancellationToken) =>
        query.Format switch
        {
            null or "json" => TypedResults.Ok(await registry.FindAsync(user.Caller(), query.Specialization, query.Alive ?? false, query.Cluster, query.Limit, query.Cursor, cancellationToken)),
            "a2a" => TypedResults.Ok(await cards.FindAsync(user.Caller(), query.Specialization, query.Alive ?? false, query.Cluster, query.Limit, query.Cursor, cancellationToken)),
            _ => throw MeshException.Invalid("format", $"'format' must be json (registry entries, the default) or a2a (the agents' A2A Agent Cards), not '{query.Format}'."),
        };

    private static async Task<Ok<Page<SpecializationSummary>>> Summarize(string? cluster, ClaimsPrincipal user, RegistryService registry, CancellationToken cancellationToken) =>
        TypedResults.Ok(await registry.SummarizeAsync(user.Caller(), cluster, cancellationToken));

    private static async Task<Ok<UnregisterResponse>> Unregister([FromRoute(Name = "agent_id")] string agentId, string specialization, string? cluster, ClaimsPrincipal user, RegistryService registry, CancellationToken cancellationToken) =>
        TypedResults.Ok(await registry.UnregisterAsync(user.Caller(), agentId, specialization, cluster, cancellationToken));
}
