using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using SessionMesh.Contracts;
using SessionMesh.Mesh;
using SessionMesh.Server.Auth;
using SessionMesh.Server.Hosting;
using static Microsoft.AspNetCore.Http.StatusCodes;

namespace SessionMesh.Server.Endpoints;

/// <summary>An agent's output: appended in batches by its wrapper, read as a tail or followed as SSE (<see cref="LogService"/>).</summary>
internal static class LogEndpoints
{
    public static RouteGroupBuilder MapLogs(this RouteGroupBuilder api)
    {
        var logs = api.MapGroup("/agents/{agent_id}/logs").WithTags("Logs");
        logs.MapGet("/", Read).WithSummary("The last lines of the agent's output (tail=N, default 100); follow=true streams new lines as SSE.").ProducesProblems(Status400BadRequest, Status403Forbidden, Status404NotFound);
        logs.MapPost("/", Append).WithSummary("The agent's wrapper ships a batch of output lines.").ProducesProblems(Status400BadRequest, Status403Forbidden, Status404NotFound, Status413PayloadTooLarge);
        return api;
    }

    internal sealed record ReadQuery(
        [property: FromQuery(Name = "tail")] int? Tail,
        [property: FromQuery(Name = "follow")] bool? Follow,
        [property: FromQuery(Name = "cluster")] string? Cluster);

    /// <summary>The tail as JSON; with <c>follow=true</c>, SSE resumable with <c>Last-Event-ID</c> (a line's sequence).</summary>
    private static async Task<IResult> Read(
        [FromRoute(Name = "agent_id")] string agentId,
        [AsParameters] ReadQuery query,
        [FromHeader(Name = "Last-Event-ID")] string? lastEventId,
        HttpContext context,
        ClaimsPrincipal user,
        LogService logs,
        StreamSlots slots,
        IOptions<MeshServerOptions> options,
        TimeProvider time,
        IHostApplicationLifetime lifetime,
        CancellationToken cancellationToken)
    {
        var caller = user.Caller();
        if (query.Follow != true)
        {
            return TypedResults.Ok(await logs.TailAsync(caller, agentId, query.Cluster, query.Tail, cancellationToken));
        }
        var after = string.IsNullOrWhiteSpace(lastEventId) ? (long?)null
            : long.TryParse(lastEventId, System.Globalization.CultureInfo.InvariantCulture, out var id) && id >= 0 ? id
            : throw MeshException.Invalid("Last-Event-ID", "The Last-Event-ID header must be the sequence of a line this stream sent.");
        var start = await logs.StartFollowAsync(caller, agentId, query.Cluster, query.Tail, after, cancellationToken);
        if (slots.TryOpen(context, caller.KeyId) is { } refused)
        {
            return refused;
        }
        // The token is the server's shutdown (the result adds the request's abort), so shutdown never waits on a follower.
        return new SseStreamResult<LogLineView>(logs.FollowAsync(start, lifetime.ApplicationStopping), SseFrames.Write, options.Value.StreamKeepAlive, time);
    }

    private static async Task<Ok<LogAppendResponse>> Append([FromRoute(Name = "agent_id")] string agentId, LogAppendRequest request, ClaimsPrincipal user, LogService logs, CancellationToken cancellationToken) =>
        TypedResults.Ok(await logs.AppendAsync(user.Caller(), agentId, request, cancellationToken));
}
