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
using Microsoft.Extensions.Options;
using SessionMesh.Contracts;
using SessionMesh.Mesh;
using SessionMesh.Security;
using SessionMesh.Server.Auth;
using SessionMesh.Server.Hosting;
using static Microsoft.AspNetCore.Http.StatusCodes;

namespace SessionMesh.Server.Endpoints;

/// <summary>The event history as SSE (or one JSON page), and the topology.</summary>
internal static class EventEndpoints
{
    public static RouteGroupBuilder MapEvents(this RouteGroupBuilder api)
    {
        api.MapGet("/events", Events).WithTags("Events").WithSummary("Every state change after a revision: SSE with Accept: text/event-stream, else one JSON page.").ProducesProblems(Status400BadRequest, Status403Forbidden, Status404NotFound, Status410Gone);
        api.MapGet("/topology", Topology).WithTags("Topology").WithSummary("Agents and parent→child edges with status, as json, dot or mermaid.").ProducesProblems(Status400BadRequest, Status403Forbidden, Status404NotFound);
        return api;
    }

    internal sealed record EventsQuery(
        [property: FromQuery(Name = "since")] long? Since,
        [property: FromQuery(Name = "cluster")] string? Cluster,
        [property: FromQuery(Name = "limit")] int? Limit);

    private static async Task<IResult> Events([AsParameters] EventsQuery query, [FromHeader(Name = "Last-Event-ID")] string? lastEventId, HttpContext context, ClaimsPrincipal user, EventService events, StreamSlots slots, IOptions<MeshServerOptions> options, TimeProvider time, IHostApplicationLifetime lifetime, CancellationToken cancellationToken)
    {
        var caller = user.Caller();
        var since = string.IsNullOrWhiteSpace(lastEventId) ? query.Since
            : long.TryParse(lastEventId, System.Globalization.CultureInfo.InvariantCulture, out var id) && id >= 0 ? id
            : throw MeshException.Invalid("Last-Event-ID", "The Last-Event-ID header must be a revision (0 or more).");
        var limit = Validate.Limit(query.Limit);
        var after = await events.StartAsync(caller, query.Cluster, since, cancellationToken);
        if (!context.Request.Headers.Accept.ToString().Contains("text/event-stream", StringComparison.OrdinalIgnoreCase))
        {
            var page = await events.ListAsync(caller, query.Cluster, query.Since is null && lastEventId is null ? 0 : after, limit, cancellationToken);
            return TypedResults.Ok(new Page<EventView> { Items = page.ToList() });
        }
        if (slots.TryOpen(context, caller.KeyId) is { } refused)
        {
            return refused;
        }
        // The token is the server's shutdown (the result adds the request's abort), so shutdown never waits on a watcher.
        return new SseStreamResult<EventStreamFrame>(events.WatchAsync(caller, query.Cluster, after, lifetime.ApplicationStopping), SseFrames.Write, options.Value.StreamKeepAlive, time);
    }

    private static async Task<IResult> Topology(string? format, string? cluster, [FromQuery(Name = "max_agents")] int? maxAgents, ClaimsPrincipal user, AgentService agents, CancellationToken cancellationToken)
    {
        var topology = await agents.GetTopologyAsync(user.Caller(), cluster, maxAgents, cancellationToken);
        return (format ?? "json").ToLowerInvariant() switch
        {
            "json" => TypedResults.Ok(topology),
            "dot" => TypedResults.Text(TopologyRenderer.ToDot(topology), "text/vnd.graphviz; charset=utf-8"),
            "mermaid" => TypedResults.Text(TopologyRenderer.ToMermaid(topology), "text/plain; charset=utf-8"),
            _ => throw MeshException.Invalid("format", "'format' must be json, dot or mermaid."),
        };
    }
}
