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

/// <summary>Session-bound locks: acquire (optionally waiting), release, read, list.</summary>
internal static class LockEndpoints
{
    public static RouteGroupBuilder MapLocks(this RouteGroupBuilder api)
    {
        var locks = api.MapGroup("/locks").WithTags("Locks");
        locks.MapPost("/", Acquire).WithSummary("Take a lock for an open session (201; 200 if it already holds it); 409 lock_held or lock_delay, after waiting up to 'wait' seconds.").ProducesProblems(Status400BadRequest, Status403Forbidden, Status404NotFound, Status409Conflict, Status410Gone, Status413PayloadTooLarge);
        locks.MapGet("/", List).WithSummary("Held locks of the cluster, by name.").ProducesProblems(Status400BadRequest, Status403Forbidden, Status404NotFound);
        // A catch-all: lock names may contain '/' (repo/main), sent as is or as %2F.
        locks.MapGet("/{**name}", Get).WithSummary("A held lock; 404 lock_not_found when nobody holds it.").ProducesProblems(Status400BadRequest, Status403Forbidden, Status404NotFound);
        locks.MapDelete("/{**name}", Release).WithSummary("Release a lock: its holder, or admin.").ProducesProblems(Status400BadRequest, Status403Forbidden, Status404NotFound);
        return api;
    }

    internal sealed record ListQuery(
        [property: FromQuery(Name = "cluster")] string? Cluster,
        [property: FromQuery(Name = "limit")] int? Limit,
        [property: FromQuery(Name = "cursor")] string? Cursor);

    private static async Task<Results<Created<LockView>, Ok<LockView>>> Acquire(AcquireLockRequest request, ClaimsPrincipal user, LockService locks, CancellationToken cancellationToken)
    {
        var (held, acquired) = await locks.AcquireAsync(user.Caller(), request, cancellationToken);
        return acquired
            ? TypedResults.Created($"/api/session-mesh/locks/{held.Name}", held)
            : TypedResults.Ok(held);
    }

    private static async Task<Ok<Page<LockView>>> List([AsParameters] ListQuery query, ClaimsPrincipal user, LockService locks, CancellationToken cancellationToken) =>
        TypedResults.Ok(await locks.ListAsync(user.Caller(), query.Cluster, query.Limit, query.Cursor, cancellationToken));

    private static async Task<Ok<LockView>> Get(string name, string? cluster, ClaimsPrincipal user, LockService locks, CancellationToken cancellationToken) =>
        TypedResults.Ok(await locks.GetAsync(user.Caller(), Unescape(name), cluster, cancellationToken));

    private static async Task<Ok<LockView>> Release(string name, string? cluster, ClaimsPrincipal user, LockService locks, CancellationToken cancellationToken) =>
        TypedResults.Ok(await locks.ReleaseAsync(user.Caller(), Unescape(name), cluster, cancellationToken));

    // The server decodes a path except %2F; a lock name has no '%' of its own, so what is left to decode is a slash.
    private static string Unescape(string name) => name.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase);
}
