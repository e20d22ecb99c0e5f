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
using Microsoft.Net.Http.Headers;
using SessionMesh.Contracts;
using SessionMesh.Mesh;
using SessionMesh.Model;
using SessionMesh.Server.Auth;
using SessionMesh.Server.Observability;

namespace SessionMesh.Server.Endpoints;

/// <summary>Steer, messages, kill, and each agent's command stream with its acks.</summary>
internal static class CommandEndpoints
{
    public static RouteGroupBuilder MapCommands(this RouteGroupBuilder api)
    {
        api.MapPost("/steer", Steer).WithTags("Commands").WithSummary("Queue a steering directive for an agent; pushed at once to its open stream.");
        api.MapGet("/commands/{command_id}", GetCommand).WithTags("Commands").WithSummary("Where a command stands; wait=SECONDS waits for it to complete.");
        var agents = api.MapGroup("/agents/{agent_id}").WithTags("Commands");
        agents.MapDelete("/", Kill).WithSummary("Kill an agent and, by default, its sub-agents.");
        agents.MapPost("/messages", Message).WithSummary("Send an agent a message, delivered like a steer.");
        agents.MapGet("/commands", Stream).WithSummary("The agent's command stream: SSE with Accept: text/event-stream, else a long poll.");
        agents.MapPost("/commands/{command_id}/ack", Ack).WithSummary("The agent reports a command's outcome.");
        return api;
    }

    private static async Task<Ok<CommandView>> Steer(SteerRequest request, [FromHeader(Name = "Idempotency-Key")] string? idempotencyKey, ClaimsPrincipal user, MeshService mesh, CancellationToken cancellationToken)
    {
        var (command, _) = await mesh.SteerAsync(user.Caller(), request, idempotencyKey, cancellationToken);
        return TypedResults.Ok(await SettleAsync(mesh, user, command, cancellationToken));
    }

    private static async Task<Ok<CommandView>> Message([FromRoute(Name = "agent_id")] string agentId, MessageRequest request, string? cluster, [FromHeader(Name = "Idempotency-Key")] string? idempotencyKey, ClaimsPrincipal user, MeshService mesh, CancellationToken cancellationToken)
    {
        var (command, _) = await mesh.MessageAsync(user.Caller(), agentId, request, cluster, idempotencyKey, cancellationToken);
        return TypedResults.Ok(await SettleAsync(mesh, user, command, cancellationToken));
    }

    /// <summary>
    /// When the agent's stream is open, the push takes a moment: wait briefly for it so the answer can say
    /// "delivered". An agent that is away is not waited for.
    /// </summary>
    private static async Task<CommandView> SettleAsync(MeshService mesh, ClaimsPrincipal user, CommandView command, CancellationToken cancellationToken)
    {
        if (command.Status != "queued" || !mesh.Signals.HasListener(MeshSignals.AgentKey(command.Cluster, command.AgentId)))
        {
            return command;
        }
        var signal = mesh.Signals.Next(MeshSignals.CommandKey(command.CommandId));
        var current = await mesh.Store.GetCommandAsync(command.CommandId, cancellationToken);
        if (current?.Status == CommandStatus.Queued)
        {
            // Real time on purpose: a fake clock must not make a steer wait forever. The timer is cancelled once the push wins.
            using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            await Task.WhenAny(signal, Task.Delay(TimeSpan.FromSeconds(1), timer.Token));
            await timer.CancelAsync();
            current = await mesh.Store.GetCommandAsync(command.CommandId, cancellationToken);
        }
        return current is null ? command : MeshService.ViewOf(current);
    }

    internal sealed record KillQuery(
        [property: FromQuery(Name = "force")] bool? Force,
        [property: FromQuery(Name = "cascade")] bool? Cascade,
        [property: FromQuery(Name = "grace_period")] int? GracePeriod,
        [property: FromQuery(Name = "reason")] string? Reason,
        [property: FromQuery(Name = "cluster")] string? Cluster);

    private static async Task<Ok<KillResponse>> Kill([FromRoute(Name = "agent_id")] string agentId, [AsParameters] KillQuery query, ClaimsPrincipal user, MeshService mesh, CancellationToken cancellationToken) =>
        TypedResults.Ok(await mesh.KillAsync(user.Caller(), agentId, new KillRequest(query.Force ?? false, query.Cascade ?? true, query.GracePeriod, query.Reason, query.Cluster), cancellationToken));

    private static async Task<Ok<CommandView>> GetCommand([FromRoute(Name = "command_id")] string commandId, int? wait, ClaimsPrincipal user, MeshService mesh, CancellationToken cancellationToken) =>
        TypedResults.Ok(await mesh.GetCommandAsync(user.Caller(), commandId, WaitOf(wait), cancellationToken));

    private static async Task<Ok<CommandView>> Ack([FromRoute(Name = "agent_id")] string agentId, [FromRoute(Name = "command_id")] string commandId, AckRequest request, string? cluster, ClaimsPrincipal user, MeshService mesh, CancellationToken cancellationToken) =>
        TypedResults.Ok(await mesh.AckAsync(user.Caller(), agentId, commandId, request, cluster, cancellationToken));

    internal sealed record StreamQuery(
        [property: FromQuery(Name = "cluster")] string? Cluster,
        [property: FromQuery(Name = "wait")] int? Wait,
        [property: FromQuery(Name = "after")] long? After,
        [property: FromQuery(Name = "cursor")] string? Cursor,
        [property: FromQuery(Name = "limit")] int? Limit);

    private static async Task<IResult> Stream(
        [FromRoute(Name = "agent_id")] string agentId,
        [AsParameters] StreamQuery query,
        [FromHeader(Name = "Last-Event-ID")] string? lastEventId,
        HttpContext context,
        ClaimsPrincipal user,
        MeshService mesh,
        MeshMetrics metrics,
        IHostApplicationLifetime lifetime,
        CancellationToken cancellationToken)
    {
        var session = await mesh.OpenCommandStreamAsync(user.Caller(), agentId, query.Cluster, cancellationToken);
        var after = ParseLastEventId(lastEventId) ?? Cursor.DecodeLong(query.Cursor) ?? query.After ?? 0;
        var limit = Validate.Limit(query.Limit);
        var wantsStream = context.Request.Headers.Accept.ToString().Contains("text/event-stream", StringComparison.OrdinalIgnoreCase);
        if (wantsStream)
        {
            context.Response.Headers["X-Accel-Buffering"] = "no";
            return TypedResults.ServerSentEvents(CommandFrames(mesh, metrics, session, after, lifetime.ApplicationStopping));
        }

        // Long poll: what is pending now, else wait for the next command (up to `wait` seconds).
        var waitFor = WaitOf(query.Wait);
        var deadline = mesh.Time.GetUtcNow() + waitFor;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var signal = mesh.Signals.Next(MeshSignals.AgentKey(session.Cluster, session.AgentId));
            await mesh.KeepAliveAsync(session.SessionId, cancellationToken);
            var delivered = await mesh.DeliverAsync(session.Cluster, session.AgentId, after, limit, cancellationToken);
            metrics.Delivered(delivered);
            var remaining = deadline - mesh.Time.GetUtcNow();
            if (delivered.Count > 0 || remaining <= TimeSpan.Zero)
            {
                // The cursor moves past what was handed out; with nothing new it stays where it was.
                var next = delivered.Count > 0 ? Cursor.Encode(delivered[^1].Sequence) : query.Cursor ?? Cursor.Encode(after);
                return TypedResults.Ok(new Page<CommandView> { Items = delivered.Select(MeshService.ViewOf).ToList(), NextCursor = next });
            }
            await mesh.WaitAsync(signal, remaining, cancellationToken);
        }
    }

    /// <summary>
    /// The SSE frames of a command stream: pending commands first (<c>event: command</c>, <c>id:</c> the sequence),
    /// then each new one as it is queued; a <c>lease</c> frame whenever the stream renews the session; and a final
    /// <c>end</c> frame when the session ends (killed, superseded, left, expired), after which the stream closes.
    /// The token is the server's shutdown (the result adds the request's abort), so shutdown never waits on a stream.
    /// </summary>
    private static async IAsyncEnumerable<SseItem<string>> CommandFrames(MeshService mesh, MeshMetrics metrics, SessionRecord session, long after, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var agentKey = MeshSignals.AgentKey(session.Cluster, session.AgentId);
        using var listening = mesh.Signals.Listen(agentKey);
        var renewEvery = TimeSpan.FromSeconds(Math.Clamp(session.Ttl / 3.0, 0.5, 15));
        var nextRenewal = mesh.Time.GetUtcNow();
        while (!cancellationToken.IsCancellationRequested)
        {
            var signal = mesh.Signals.Next(agentKey);
            var delivered = await mesh.DeliverAsync(session.Cluster, session.AgentId, after, MeshLimits.DefaultPageSize, cancellationToken);
            metrics.Delivered(delivered);
            foreach (var command in delivered)
            {
                after = command.Sequence;
                yield return new SseItem<string>(JsonSerializer.Serialize(MeshService.ViewOf(command), MeshJsonContext.Default.CommandView), "command")
                {
                    EventId = command.Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture),
                };
            }
            if (delivered.Count == MeshLimits.DefaultPageSize)
            {
                continue;
            }

            var current = await mesh.Store.GetSessionAsync(session.SessionId, cancellationToken);
            if (mesh.Time.GetUtcNow() >= nextRenewal && current is { IsOpen: true })
            {
                current = await mesh.KeepAliveAsync(session.SessionId, cancellationToken);
                nextRenewal = mesh.Time.GetUtcNow() + renewEvery;
                if (current is { IsOpen: true })
                {
                    yield return new SseItem<string>(JsonSerializer.Serialize(new HeartbeatResponse
                    {
                        SessionId = current.SessionId,
                        Status = current.StatusAt(mesh.Time.GetUtcNow()),
                        Ttl = current.Ttl,
                        Load = current.Load,
                        LastSeen = current.LastSeen,
                        ExpiresAt = current.ExpiresAt,
                    }, MeshJsonContext.Default.HeartbeatResponse), "lease");
                }
            }
            if (current is null || !current.IsOpen)
            {
                var ended = current ?? session;
                yield return new SseItem<string>(JsonSerializer.Serialize(new StreamEnd
                {
                    SessionId = ended.SessionId,
                    Status = ended.EndStatus ?? SessionStatus.Expired,
                    Reason = ended.EndReason,
                }, MeshJsonContext.Default.StreamEnd), "end");
                yield break;
            }
            await mesh.WaitAsync(signal, nextRenewal - mesh.Time.GetUtcNow(), cancellationToken);
        }
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
