using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Hosting;
using SessionMesh.Contracts;
using SessionMesh.Mesh;
using SessionMesh.Security;
using SessionMesh.Server.Auth;

namespace SessionMesh.Server.Endpoints;

/// <summary>The event history as SSE (or one JSON page), and the topology.</summary>
internal static class EventEndpoints
{
    public static RouteGroupBuilder MapEvents(this RouteGroupBuilder api)
    {
        api.MapGet("/events", Events).WithTags("Events").WithSummary("Every state change after a revision: SSE with Accept: text/event-stream, else one JSON page.");
        api.MapGet("/topology", Topology).WithTags("Topology").WithSummary("Agents and parent→child edges with status, as json, dot or mermaid.");
        return api;
    }

    internal sealed record EventsQuery(
        [property: FromQuery(Name = "since")] long? Since,
        [property: FromQuery(Name = "cluster")] string? Cluster,
        [property: FromQuery(Name = "limit")] int? Limit);

    private static async Task<IResult> Events([AsParameters] EventsQuery query, [FromHeader(Name = "Last-Event-ID")] string? lastEventId, HttpContext context, ClaimsPrincipal user, MeshService mesh, IHostApplicationLifetime lifetime, CancellationToken cancellationToken)
    {
        var caller = user.Caller();
        var since = string.IsNullOrWhiteSpace(lastEventId) ? query.Since
            : long.TryParse(lastEventId, System.Globalization.CultureInfo.InvariantCulture, out var id) ? id
            : throw MeshException.Invalid("Last-Event-ID", "The Last-Event-ID header must be a revision.");
        var limit = Validate.Limit(query.Limit);
        // Resolve the cluster up front so a bad one is a 404 before the stream starts.
        _ = await mesh.ListEventsAsync(caller, query.Cluster, long.MaxValue, 1, cancellationToken);
        var after = await mesh.StartWatchAsync(caller, since, cancellationToken);
        if (!context.Request.Headers.Accept.ToString().Contains("text/event-stream", StringComparison.OrdinalIgnoreCase))
        {
            var page = await mesh.ListEventsAsync(caller, query.Cluster, query.Since is null && lastEventId is null ? 0 : after, limit, cancellationToken);
            return TypedResults.Ok(new Page<EventView> { Items = page.ToList() });
        }
        context.Response.Headers["X-Accel-Buffering"] = "no";
        return TypedResults.ServerSentEvents(EventFrames(mesh, caller, query.Cluster, after, lifetime.ApplicationStopping));
    }

    /// <summary>
    /// One frame per event (<c>id:</c> the revision, <c>event:</c> its type), in revision order, then live. The token
    /// is the server's shutdown (the result adds the request's abort), so shutdown never waits on a watcher.
    /// </summary>
    private static async IAsyncEnumerable<SseItem<string>> EventFrames(MeshService mesh, MeshCaller caller, string? cluster, long after, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var idle = TimeSpan.FromSeconds(15);
        while (!cancellationToken.IsCancellationRequested)
        {
            var signal = mesh.Signals.Next(MeshSignals.RevisionKey);
            var batch = await mesh.ListEventsAsync(caller, cluster, after, MeshLimits.DefaultPageSize, cancellationToken);
            foreach (var e in batch)
            {
                after = e.Revision;
                yield return new SseItem<string>(JsonSerializer.Serialize(e, MeshJsonContext.Default.EventView), e.Type)
                {
                    EventId = e.Revision.ToString(System.Globalization.CultureInfo.InvariantCulture),
                };
            }
            if (batch.Count == MeshLimits.DefaultPageSize)
            {
                continue;
            }
            await mesh.WaitAsync(signal, idle, cancellationToken);
            if (!signal.IsCompleted && !cancellationToken.IsCancellationRequested)
            {
                // Nothing happened for a while: a frame keeps proxies from closing the connection.
                yield return new SseItem<string>("{}", "ping");
            }
        }
    }

    private static async Task<IResult> Topology(string? format, string? cluster, ClaimsPrincipal user, MeshService mesh, CancellationToken cancellationToken)
    {
        var topology = await mesh.GetTopologyAsync(user.Caller(), cluster, cancellationToken);
        return (format ?? "json").ToLowerInvariant() switch
        {
            "json" => TypedResults.Ok(topology),
            "dot" => TypedResults.Text(TopologyRenderer.ToDot(topology), "text/vnd.graphviz; charset=utf-8"),
            "mermaid" => TypedResults.Text(TopologyRenderer.ToMermaid(topology), "text/plain; charset=utf-8"),
            _ => throw MeshException.Invalid("format", "'format' must be json, dot or mermaid."),
        };
    }
}
