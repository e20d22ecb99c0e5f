using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using SessionMesh.Contracts;
using SessionMesh.Mesh;

namespace SessionMesh.Server.Endpoints;

/// <summary><c>/healthz</c> (the process is up) and <c>/readyz</c> (the store answers and takes writes); no key needed.</summary>
internal static class OperationsEndpoints
{
    public static void MapOperations(this IEndpointRouteBuilder app, string? host)
    {
        var health = app.MapGet("/healthz", () => TypedResults.Ok(new HealthResponse { Status = "ok" })).WithTags("Operations");
        var ready = app.MapGet("/readyz", Ready).WithTags("Operations");
        if (host is not null)
        {
            health.RequireHost(host);
            ready.RequireHost(host);
        }
    }

    /// <summary>
    /// Ready when the store answers and takes writes: a store that refused a write for want of space (507
    /// <c>storage_full</c>) is not ready until a write succeeds again, which the store tries itself while it is full.
    /// </summary>
    private static async Task<Results<Ok<HealthResponse>, JsonHttpResult<HealthResponse>>> Ready(Store.IMeshStore store, ILeaseLeader leader, CancellationToken cancellationToken)
    {
        string? problem;
        try
        {
            problem = !await store.PingAsync(cancellationToken) ? "unreachable"
                : !await store.IsWritableAsync(cancellationToken) ? "full"
                : null;
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            problem = "unreachable";
        }
        return problem is null
            ? TypedResults.Ok(new HealthResponse { Status = "ready", Store = "ok", Replicas = leader.Replicas })
            : TypedResults.Json(new HealthResponse { Status = "unavailable", Store = problem }, statusCode: StatusCodes.Status503ServiceUnavailable);
    }
}
