using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using SessionMesh.Contracts;
using SessionMesh.Server.Auth;
using SessionMesh.Mesh;
using static Microsoft.AspNetCore.Http.StatusCodes;

namespace SessionMesh.Server.Endpoints;

/// <summary>Agent reads: one agent, the list, a sub-tree.</summary>
internal static class AgentEndpoints
{
    public static RouteGroupBuilder MapAgents(this RouteGroupBuilder api)
    {
        var agents = api.MapGroup("/agents").WithTags("Agents");
        agents.MapGet("/", List).WithSummary("Agents ordered by id.").ProducesProblems(Status400BadRequest, Status403Forbidden, Status404NotFound);
        agents.MapGet("/{agent_id}", Get).WithSummary("An agent with its open session, specializations and children.").ProducesProblems(Status403Forbidden, Status404NotFound);
        agents.MapGet("/{agent_id}/tree", Tree).WithSummary("The agent and its descendants.").ProducesProblems(Status403Forbidden, Status404NotFound);
        agents.MapGet("/{agent_id}/usage", Usage).WithSummary("The agent's usage, own and rolled up over its sub-tree, against its budget; tree=true for each descendant.").ProducesProblems(Status400BadRequest, Status403Forbidden, Status404NotFound);
        agents.MapPut("/{agent_id}", Declare).WithSummary("Declare an agent before it joins, or set its parent and labels (201 created, 200 when it existed).").ProducesProblems(Status400BadRequest, Status403Forbidden, Status404NotFound, Status409Conflict, Status413PayloadTooLarge);
        return api;
    }

    internal sealed record ListQuery(
        [property: FromQuery(Name = "parent_id")] string? ParentId,
        [property: FromQuery(Name = "cluster")] string? Cluster,
        [property: FromQuery(Name = "limit")] int? Limit,
        [property: FromQuery(Name = "cursor")] string? Cursor);

    private static async Task<Ok<Page<AgentView>>> List([AsParameters] ListQuery query, ClaimsPrincipal user, AgentService agents, CancellationToken cancellationToken) =>
        TypedResults.Ok(await agents.ListAsync(user.Caller(), query.Cluster, query.ParentId, query.Limit, query.Cursor, cancellationToken));

    private static async Task<Ok<AgentView>> Get([FromRoute(Name = "agent_id")] string agentId, string? cluster, ClaimsPrincipal user, AgentService agents, CancellationToken cancellationToken) =>
        TypedResults.Ok(await agents.GetAsync(user.Caller(), agentId, cluster, cancellationToken));

    private static async Task<Results<Created<AgentView>, Ok<AgentView>>> Declare([FromRoute(Name = "agent_id")] string agentId, DeclareAgentRequest request, ClaimsPrincipal user, AgentService agents, CancellationToken cancellationToken)
    {
        var (agent, created) = await agents.DeclareAsync(user.Caller(), agentId, request, cancellationToken);
        return created ? TypedResults.Created($"/api/session-mesh/agents/{agent.AgentId}", agent) : TypedResults.Ok(agent);
    }

    private static async Task<Ok<AgentTreeNode>> Tree([FromRoute(Name = "agent_id")] string agentId, string? cluster, ClaimsPrincipal user, AgentService agents, CancellationToken cancellationToken) =>
        TypedResults.Ok(await agents.GetTreeAsync(user.Caller(), agentId, cluster, cancellationToken));

    private static async Task<Ok<UsageView>> Usage([FromRoute(Name = "agent_id")] string agentId, string? cluster, bool? tree, ClaimsPrincipal user, AgentService agents, CancellationToken cancellationToken) =>
        TypedResults.Ok(await agents.GetUsageAsync(user.Caller(), agentId, cluster, tree ?? false, cancellationToken));
}
