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

/// <summary>Session keys and the audit log.</summary>
internal static class KeyEndpoints
{
    public static RouteGroupBuilder MapKeys(this RouteGroupBuilder api)
    {
        var keys = api.MapGroup("/keys").WithTags("Keys");
        keys.MapPost("/", Create).WithSummary("Mint a key (its secret is shown once), or rotate one with session_key.").ProducesProblems(Status400BadRequest, Status403Forbidden, Status404NotFound, Status413PayloadTooLarge);
        keys.MapGet("/", List).WithSummary("Keys, never their secrets.").ProducesProblems(Status400BadRequest, Status403Forbidden, Status404NotFound);
        keys.MapGet("/self", Self).WithSummary("The calling key.").ProducesProblems(Status404NotFound);
        keys.MapDelete("/{key_id}", Revoke).WithSummary("Revoke a key.").ProducesProblems(Status403Forbidden, Status404NotFound, Status409Conflict);
        api.MapGet("/audit", Audit).WithTags("Audit").WithSummary("Who (key_id) did what mutating call, when, with what outcome; newest first.").ProducesProblems(Status400BadRequest, Status403Forbidden, Status404NotFound);
        return api;
    }

    internal sealed record PageQuery(
        [property: FromQuery(Name = "cluster")] string? Cluster,
        [property: FromQuery(Name = "limit")] int? Limit,
        [property: FromQuery(Name = "cursor")] string? Cursor);

    private static async Task<Created<CreatedKeyView>> Create(CreateKeyRequest request, ClaimsPrincipal user, KeyService keys, CancellationToken cancellationToken)
    {
        var key = await keys.CreateAsync(user.Caller(), request, cancellationToken);
        return TypedResults.Created($"/api/session-mesh/keys/{key.KeyId}", key);
    }

    private static async Task<Ok<Page<KeyView>>> List([AsParameters] PageQuery query, ClaimsPrincipal user, KeyService keys, CancellationToken cancellationToken) =>
        TypedResults.Ok(await keys.ListAsync(user.Caller(), query.Cluster, query.Limit, query.Cursor, cancellationToken));

    private static async Task<Ok<KeyView>> Self(ClaimsPrincipal user, KeyService keys, CancellationToken cancellationToken) =>
        TypedResults.Ok(await keys.GetSelfAsync(user.Caller(), cancellationToken));

    private static async Task<Ok<KeyView>> Revoke([FromRoute(Name = "key_id")] string keyId, ClaimsPrincipal user, KeyService keys, CancellationToken cancellationToken) =>
        TypedResults.Ok(await keys.RevokeAsync(user.Caller(), keyId, cancellationToken));

    private static async Task<Ok<Page<AuditView>>> Audit([AsParameters] PageQuery query, ClaimsPrincipal user, AuditService audit, CancellationToken cancellationToken) =>
        TypedResults.Ok(await audit.ListAsync(user.Caller(), query.Cluster, query.Limit, query.Cursor, cancellationToken));
}
