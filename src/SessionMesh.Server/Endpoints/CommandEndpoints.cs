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
using Microsoft.Net.Http.Headers;
using SessionMesh.Contracts;
using SessionMesh.Mesh;
using SessionMesh.Model;
using SessionMesh.Server.Auth;
using SessionMesh.Server.Hosting;
using SessionMesh.Server.Observability;
using static Microsoft.AspNetCore.Http.StatusCodes;

namespace SessionMesh.Server.Endpoints;

/// <summary>Steer, messages, kill, and each agent's command stream with its acks.</summary>
internal static class CommandEndpoints
{
    public static RouteGroupBuilder MapCommands(this RouteGroupBuilder api)
    {
        api.MapPost("/steer", Steer).WithTags("Commands").WithSummary("Queue a steering directive for an agent; pushed at once to its open stream.").ProducesProblems(Status400BadRequest, Status403Forbidden, Status404NotFound, Status409Conflict, Status413PayloadTooLarge);
        api.MapGet("/commands/{command_id}", GetCommand).WithTags("Commands").WithSummary("Where a command stands; wait=SECONDS waits for it to complete.").ProducesProblems(Status400BadRequest, Status403Forbidden, Status404NotFound);
        var agents = api.MapGroup("/agents/{agent_id}").WithTags("Commands");
        agents.MapDelete("/", Kill).WithSummary("Kill an agent and, by default, its sub-agents.").ProducesProblems(Status400BadRequest, Status403Forbidden, Status404NotFound);
        agents.MapPost("/messages", Message).WithSummary("Send an agent a message, delivered like a steer.").ProducesProblems(Status400BadRequest, Status403Forbidden, Status404NotFound, Status409Conflict, Status413PayloadTooLarge);
        agents.MapGet("/commands", Stream).WithSummary("The agent's command stream: SSE with Accept: text/event-stream, else a long poll.").ProducesProblems(Status400BadRequest, Status403Forbidden, Status404NotFound, Status409Conflict);
        agents.MapPost("/commands/{command_id}/ack", Ack).WithSummary("The agent reports a command's outcome.").ProducesProblems(Status400BadRequest, Status403Forbidden, Status404NotFound, Status409Conflict, Status413PayloadTooLarge);
        return api;
    }

    private static async Task<Ok<CommandView>> Steer(SteerRequest request, [FromHeader(Name = "Idempotency-Key")] string? idempotencyKey, ClaimsPrincipal user, CommandService commands, CancellationToken cancellationToken)
    {
        var (command, _) = await commands.SteerAsync(user.Caller(), request, idempotencyKey, cancellationToken);
        return TypedResults.Ok(await commands.SettleAsync(command, cancellationToken));
    }

    private static async Task<Ok<CommandView>> Message([FromRoute(Name = "agent_id")] string agentId, MessageRequest request, string? cluster, [FromHeader(Name = "Idempotency-Key")] string? idempotencyKey, ClaimsPrincipal user, CommandService commands, CancellationToken cancellationToken)
    {
        var (command, _) = await commands.MessageAsync(user.Caller(), agentId, request, cluster, idempotencyKey, cancellationToken);
        return TypedResults.Ok(await commands.SettleAsync(command, cancellationToken));
    }

    internal sealed record KillQuery(
        [property: FromQuery(Name = "force")] bool? Force,
        [property: FromQuery(Name = "cascade")] bool? Cascade,
        [property: FromQuery(Name = "propagation")] string? Propagation,
        [property: FromQuery(Name = "grace_period")] int? GracePeriod,
        [property: FromQuery(Name = "reason")] string? Reason,
        [property: FromQuery(Name = "cluster")] string? Cluster);

    private static async Task<Ok<KillResponse>> Kill([FromRoute(Name = "agent_id")] string agentId, [AsParameters] KillQuery query, ClaimsPrincipal user, CommandService commands, CancellationToken cancellationToken) =>
        TypedResults.Ok(await commands.KillAsync(user.Caller(), agentId, KillRequest.Of(query.Force, query.Cascade, query.Propagation, query.GracePeriod, query.Reason, query.Cluster), cancellationToken));

    private static async Task<Ok<CommandView>> GetCommand([FromRoute(Name = "command_id")] string commandId, int? wait, ClaimsPrincipal user, CommandService commands, CancellationToken cancellationToken) =>
        TypedResults.Ok(await commands.GetAsync(user.Caller(), commandId, WaitOf(wait), cancellationToken));

    private static async Task<Ok<CommandView>> Ack([FromRoute(Name = "agent_id")] string agentId, [FromRoute(Name = "command_id")] string commandId, AckRequest request, string? cluster, ClaimsPrincipal user, CommandService commands, CancellationToken cancellationToken) =>
        TypedResults.Ok(await commands.AckAsync(user.Caller(), agentId, commandId, request, cluster, cancellationToken));

    internal sealed record StreamQuery(
        [property: FromQuery(Name = "cluster")] string? Cluster,
        [property: FromQuery(Name = "wait")] int? Wait,
        [property: FromQuery(Name = "after")] long? After,
        [property: FromQuery(Name = "cursor")] string? Cursor,
        [property: FromQuery(Name = "limit")] int? Limit);

    /// <summary>
    /// The agent's command stream (<see cref="CommandStream"/>) as SSE, or as one long-poll page. The SSE token is the
    /// server's shutdown (the result adds the request's abort), so shutdown never waits on a stream.
    /// </summary>
    private static async Task<IResult> Stream(
        [FromRoute(Name = "agent_id")] string agentId,
        [AsParameters] StreamQuery query,
        [FromHeader(Name = "Last-Event-ID")] string? lastEventId,
        HttpContext context,
        ClaimsPrincipal user,
        CommandStream stream,
        StreamSlots slots,
        IOptions<MeshServerOptions> options,
        TimeProvider time,
        IHostApplicationLifetime lifetime,
        CancellationToken cancellationToken)
    {
        var after = ParseLastEventId(lastEventId) ?? Cursor.DecodeLong(query.Cursor) ?? query.After ?? 0;
        var limit = Validate.Limit(query.Limit);
        var wait = WaitOf(query.Wait);
        var caller = user.Caller();
        // The slot is taken before the stream opens (and renews the lease), so a refused one costs the store nothing.
        if (slots.TryOpen(context, caller.KeyId, caller.ResolveCluster(query.Cluster), agentId) is { } refused)
        {
            return refused;
        }
        var reader = await stream.OpenAsync(caller, agentId, query.Cluster, after, cancellationToken);
        if (context.Request.Headers.Accept.ToString().Contains("text/event-stream", StringComparison.OrdinalIgnoreCase))
        {
            return new SseStreamResult<CommandStreamFrame>(reader.ReadAsync(lifetime.ApplicationStopping), SseFrames.Write, options.Value.StreamKeepAlive, time);
        }
        var delivered = await reader.PollAsync(wait, limit, cancellationToken);
        // The cursor moves past what was handed out; with nothing new it stays where it was.
        var next = delivered.Count > 0 ? Cursor.Encode(reader.After) : query.Cursor ?? Cursor.Encode(after);
        return TypedResults.Ok(new Page<CommandView> { Items = delivered.ToList(), NextCursor = next });
    }

    private static long? ParseLastEventId(string? value) =>
        string.IsNullOrWhiteSpace(value) ? null
            : long.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, out var id) && id >= 0 ? id
            : throw MeshException.Invalid("Last-Event-ID", "The Last-Event-ID header must be the id of a frame this stream sent (a sequence number).");

    private static TimeSpan WaitOf(int? wait) => wait switch
    {
        null => TimeSpan.Zero,
        >= 0 and <= 300 => TimeSpan.FromSeconds(wait.Value),
        _ => throw MeshException.Invalid("wait", "'wait' must be between 0 and 300 seconds."),
    };
}
