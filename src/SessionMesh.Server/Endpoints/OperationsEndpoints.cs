using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using SessionMesh.Contracts;
using SessionMesh.Mesh;

namespace SessionMesh.Server.Endpoints;

/// <summary><c>/healthz</c> (the process is up) and <c>/readyz</c> (the store answers); no key needed.</summary>
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

    private static async Task<Results<Ok<HealthResponse>, JsonHttpResult<HealthResponse>>> Ready(Store.IMeshStore store, CancellationToken cancellationToken)
    {
        bool reachable;
        try
        {
            reachable = await store.PingAsync(cancellationToken);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            reachable = false;
        }
        return reachable
            ? TypedResults.Ok(new HealthResponse { Status = "ready", Store = "ok" })
            : TypedResults.Json(new HealthResponse { Status = "unavailable", Store = "unreachable" }, statusCode: StatusCodes.Status503ServiceUnavailable);
    }
}
