using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using SessionMesh.Contracts;
using SessionMesh.Mesh;
using SessionMesh.Model;
using SessionMesh.Server.Auth;
using SessionMesh.Server.Observability;
using static Microsoft.AspNetCore.Http.StatusCodes;

namespace SessionMesh.Server.Endpoints;

/// <summary>Sessions: join, heartbeat, leave, read, and <c>GET /alive</c>.</summary>
internal static class SessionEndpoints
{
    public static RouteGroupBuilder MapSessions(this RouteGroupBuilder api)
    {
        api.MapGet("/alive", ListAlive).WithTags("Sessions").WithSummary("Sessions by status filter (default alive).").ProducesProblems(Status400BadRequest, Status403Forbidden, Status404NotFound);
        var sessions = api.MapGroup("/sessions").WithTags("Sessions");
        sessions.MapPost("/", Join).WithSummary("An agent joins: a new session with a TTL.").ProducesProblems(Status400BadRequest, Status403Forbidden, Status404NotFound, Status409Conflict, Status413PayloadTooLarge);
        sessions.MapGet("/{session_id}", Get).WithSummary("A session, open or ended.").ProducesProblems(Status403Forbidden, Status404NotFound);
        sessions.MapPost("/{session_id}/heartbeat", Heartbeat).WithSummary("Renew the lease; 410 once the session has ended.").ProducesProblems(Status400BadRequest, Status403Forbidden, Status404NotFound, Status410Gone, Status413PayloadTooLarge);
        sessions.MapPost("/{session_id}/progress", Progress).WithSummary("Report progress counters and activity (renews the lease too); 410 once the session has ended.").ProducesProblems(Status400BadRequest, Status403Forbidden, Status404NotFound, Status410Gone, Status413PayloadTooLarge);
        sessions.MapDelete("/{session_id}", Leave).WithSummary("The agent leaves.").ProducesProblems(Status403Forbidden, Status404NotFound);
        return api;
    }

    /// <summary>How <see cref="Contracts.AliveQuery"/> is bound from the query string (the names the API documents).</summary>
    internal sealed record AliveQueryString(
        [property: FromQuery(Name = "filter")] string? Filter,
        [property: FromQuery(Name = "specialization")] string? Specialization,
        [property: FromQuery(Name = "label")] string[]? Label,
        [property: FromQuery(Name = "parent_id")] string? ParentId,
        [property: FromQuery(Name = "agent_id")] string? AgentId,
        [property: FromQuery(Name = "cluster")] string? Cluster,
        [property: FromQuery(Name = "limit")] int? Limit,
        [property: FromQuery(Name = "cursor")] string? Cursor);

    private static async Task<Ok<Page<SessionView>>> ListAlive([AsParameters] AliveQueryString query, ClaimsPrincipal user, SessionService sessions, CancellationToken cancellationToken) =>
        TypedResults.Ok(await sessions.ListAsync(user.Caller(), new Contracts.AliveQuery
        {
            Filter = query.Filter,
            Specialization = query.Specialization,
            Labels = query.Label,
            ParentId = query.ParentId,
            AgentId = query.AgentId,
            Cluster = query.Cluster,
            Limit = query.Limit,
            Cursor = query.Cursor,
        }, cancellationToken));

    private static async Task<Created<SessionView>> Join(JoinRequest request, ClaimsPrincipal user, SessionService sessions, CancellationToken cancellationToken)
    {
        var session = await sessions.JoinAsync(user.Caller(), request, cancellationToken);
        return TypedResults.Created($"/api/session-mesh/sessions/{session.SessionId}", session);
    }

    private static async Task<Ok<SessionView>> Get([FromRoute(Name = "session_id")] string sessionId, ClaimsPrincipal user, SessionService sessions, CancellationToken cancellationToken) =>
        TypedResults.Ok(await sessions.GetAsync(user.Caller(), sessionId, cancellationToken));

    private static async ValueTask<Ok<HeartbeatResponse>> Heartbeat([FromRoute(Name = "session_id")] string sessionId, HeartbeatRequest? request, ClaimsPrincipal user, SessionService sessions, MeshMetrics metrics, CancellationToken cancellationToken)
    {
        metrics.Heartbeat();
        return TypedResults.Ok(await sessions.HeartbeatAsync(user.Caller(), sessionId, request ?? new HeartbeatRequest(), cancellationToken));
    }

    private static async ValueTask<Ok<HeartbeatResponse>> Progress([FromRoute(Name = "session_id")] string sessionId, AgentProgress? request, ClaimsPrincipal user, SessionService sessions, CancellationToken cancellationToken) =>
        TypedResults.Ok(await sessions.ReportProgressAsync(user.Caller(), sessionId,
            request ?? throw MeshException.Invalid("progress", "The body must be a progress object, e.g. {\"tokens\": 1200, \"activity\": \"running tests\"}."),
            cancellationToken));

    private static async Task<Ok<SessionView>> Leave([FromRoute(Name = "session_id")] string sessionId, [FromQuery(Name = "exit_code")] int? exitCode, ClaimsPrincipal user, SessionService sessions, CancellationToken cancellationToken) =>
        TypedResults.Ok(await sessions.LeaveAsync(user.Caller(), sessionId, exitCode, cancellationToken));
}
