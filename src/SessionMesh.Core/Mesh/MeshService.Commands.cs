using System.Text.Json;
using SessionMesh.Contracts;
using SessionMesh.Model;
using SessionMesh.Security;
using SessionMesh.Store;

namespace SessionMesh.Mesh;

public sealed partial class MeshService
{
    private static readonly string[] s_modes = ["inject", "interrupt", "enqueue"];

    /// <summary>Queues a steering directive for an agent. Created is false when an Idempotency-Key retry found the first one.</summary>
    public async Task<(CommandView Command, bool Created)> SteerAsync(MeshCaller caller, SteerRequest request, string? idempotencyKey, CancellationToken cancellationToken)
    {
        var agentId = Validate.AgentId(request.AgentId);
        var direction = Validate.Directive(request.Direction, "direction");
        var mode = request.Mode ?? "inject";
        if (!s_modes.Contains(mode))
        {
            throw MeshException.Invalid("mode", $"'mode' must be one of: {string.Join(", ", s_modes)}.");
        }
        var ttl = Validate.Ttl(request.Ttl, options.DefaultCommandTtl, max: MeshLimits.MaxCommandTtl);
        var cluster = caller.ResolveCluster(request.Cluster);
        caller.Require(MeshScopes.Steer);
        var draft = new CommandDraft(CommandKind.Steer, direction, mode, null, null, null, null, request.Payload, ttl);
        return await EnqueueAsync(caller, cluster, agentId, draft, request.QueueIfOffline ?? false, Validate.IdempotencyKey(idempotencyKey), cancellationToken);
    }

    /// <summary>Queues a message for an agent, from an operator (<c>steer</c> scope) or from another agent (<c>agent</c> scope).</summary>
    public async Task<(CommandView Command, bool Created)> MessageAsync(MeshCaller caller, string agentId, MessageRequest request, string? cluster, string? idempotencyKey, CancellationToken cancellationToken)
    {
        Validate.AgentId(agentId);
        var text = Validate.Directive(request.Text, "text");
        var from = request.From is null ? caller.AgentId : Validate.AgentId(request.From, "from");
        var ttl = Validate.Ttl(request.Ttl, options.DefaultCommandTtl, max: MeshLimits.MaxCommandTtl);
        var resolved = caller.ResolveCluster(cluster);
        if (!caller.Scopes.Covers(MeshScopes.Steer))
        {
            // An agent writes to another agent as itself.
            caller.RequireActingFor(from ?? throw MeshException.Invalid("from", "'from' is required when an agent key sends a message."), field: "from");
        }
        var draft = new CommandDraft(CommandKind.Message, null, null, text, from, null, null, request.Payload, ttl);
        return await EnqueueAsync(caller, resolved, agentId, draft, request.QueueIfOffline ?? false, Validate.IdempotencyKey(idempotencyKey), cancellationToken);
    }

    /// <summary>Where a command stands; with <paramref name="wait"/>, waits up to that long for it to complete.</summary>
    public async Task<CommandView> GetCommandAsync(MeshCaller caller, string commandId, TimeSpan wait, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + wait;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var signal = Signals.Next(MeshSignals.CommandKey(commandId));
            var command = await store.GetCommandAsync(commandId, cancellationToken);
            if (command is null || !caller.CanSee(command.Cluster))
            {
                throw MeshException.NotFound("command_not_found", $"No command '{commandId}'.");
            }
            if (!caller.Scopes.Covers(MeshScopes.Read))
            {
                caller.RequireActingFor(command.AgentId);
            }
            var remaining = deadline - time.GetUtcNow();
            if (!command.IsPending || remaining <= TimeSpan.Zero)
            {
                return ToView(command);
            }
            await WaitAsync(signal, remaining, cancellationToken);
        }
    }

    /// <summary>The agent reports the outcome of a command. Acking a kill ends the session at once.</summary>
    public async Task<CommandView> AckAsync(MeshCaller caller, string agentId, string commandId, AckRequest request, string? cluster, CancellationToken cancellationToken)
    {
        var status = request.Status switch
        {
            "acked" => CommandStatus.Acked,
            "rejected" => CommandStatus.Rejected,
            "failed" => CommandStatus.Failed,
            _ => throw MeshException.Invalid("status", "'status' must be 'acked', 'rejected' or 'failed'."),
        };
        var resolved = caller.ResolveCluster(cluster);
        caller.RequireActingFor(agentId);
        var now = Now();
        await using var tx = await store.BeginWriteAsync(cancellationToken);
        var command = await tx.GetCommandAsync(commandId, cancellationToken);
        if (command is null || command.Cluster != resolved || command.AgentId != agentId)
        {
            throw MeshException.NotFound("command_not_found", $"Agent '{agentId}' has no command '{commandId}'.");
        }
        if (!command.IsPending)
        {
            return command.Status == status
                ? ToView(command)
                : throw MeshException.Conflict("command_completed", $"Command '{commandId}' is already {command.Status.ToWire()}.");
        }
        command = command with { Status = status, Result = request.Result, CompletedAt = now, DeliveredAt = command.DeliveredAt ?? now };
        await tx.UpdateCommandAsync(command, cancellationToken);
        var revision = await AppendCommandEventAsync(tx, command, now, cancellationToken);
        if (command.Kind == CommandKind.Kill && status == CommandStatus.Acked)
        {
            revision = await EndKilledSessionAsync(tx, resolved, agentId, command.Reason, now, cancellationToken) ?? revision;
        }
        await CommitAsync(tx, revision, cancellationToken, MeshSignals.CommandKey(commandId), MeshSignals.AgentKey(resolved, agentId));
        return ToView(command);
    }

    /// <summary>
    /// Hands an agent its pending commands after <paramref name="afterSequence"/>, in order, marking queued ones
    /// delivered. Commands delivered before and not yet acked are handed again: delivery is at least once.
    /// </summary>
    public async Task<IReadOnlyList<CommandRecord>> DeliverAsync(string cluster, string agentId, long afterSequence, int limit, CancellationToken cancellationToken)
    {
        var pending = await store.ListPendingCommandsAsync(cluster, agentId, afterSequence, limit, cancellationToken);
        if (pending.Count == 0)
        {
            return pending;
        }
        var now = Now();
        var delivered = new List<CommandRecord>(pending.Count);
        await using var tx = await store.BeginWriteAsync(cancellationToken);
        long revision = 0;
        foreach (var listed in pending)
        {
            var command = await tx.GetCommandAsync(listed.CommandId, cancellationToken);
            if (command is null || !command.IsPending)
            {
                continue;
            }
            var first = command.Status == CommandStatus.Queued;
            command = command with
            {
                Status = CommandStatus.Delivered,
                DeliveredAt = command.DeliveredAt ?? now,
                DeliveryCount = command.DeliveryCount + 1,
                // Steers and messages expire only while undelivered; a kill keeps its grace deadline.
                DeadlineAt = command.Kind == CommandKind.Kill ? command.DeadlineAt : null,
            };
            await tx.UpdateCommandAsync(command, cancellationToken);
            if (first)
            {
                revision = await AppendCommandEventAsync(tx, command, now, cancellationToken);
            }
            delivered.Add(command);
        }
        await CommitAsync(tx, revision, cancellationToken, delivered.Select(c => MeshSignals.CommandKey(c.CommandId)));
        return delivered;
    }

    /// <summary>The open session an agent's command stream belongs to; 409 when the agent has none.</summary>
    public async Task<SessionRecord> OpenCommandStreamAsync(MeshCaller caller, string agentId, string? cluster, CancellationToken cancellationToken)
    {
        Validate.AgentId(agentId);
        var resolved = caller.ResolveCluster(cluster);
        caller.RequireActingFor(agentId);
        if (await store.GetAgentAsync(resolved, agentId, cancellationToken) is null)
        {
            throw MeshException.AgentNotFound(agentId);
        }
        var sessions = await store.GetOpenSessionsAsync(resolved, [agentId], cancellationToken);
        return sessions.FirstOrDefault(s => s.StatusAt(Now()) != SessionStatus.Expired)
            ?? throw MeshException.Conflict("agent_not_alive", $"Agent '{agentId}' has no open session: join first (POST /sessions), then open its command stream.");
    }

    /// <summary>Keeps a streaming agent's lease alive; returns the session as it stands (ended when it has).</summary>
    public async Task<SessionRecord?> KeepAliveAsync(string sessionId, CancellationToken cancellationToken)
    {
        var (session, renewed) = await store.RenewSessionAsync(sessionId, Now(), null, null, cancellationToken);
        if (session is not null && !renewed && session.IsOpen)
        {
            return await ExpireAsync(sessionId, cancellationToken);
        }
        return session;
    }

    /// <summary>
    /// Waits for <paramref name="signal"/>, until <paramref name="timeout"/> passes on the mesh's clock, or until
    /// <paramref name="cancellationToken"/> fires — without throwing, so a stream can end cleanly; callers check the token.
    /// </summary>
    public async Task WaitAsync(Task signal, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (timeout <= TimeSpan.Zero || cancellationToken.IsCancellationRequested)
        {
            return;
        }
        using var timeoutCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var delay = Task.Delay(timeout, time, timeoutCts.Token);
        await Task.WhenAny(signal, delay);
        await timeoutCts.CancelAsync();
    }

    private sealed record CommandDraft(CommandKind Kind, string? Direction, string? Mode, string? Text, string? From, string? Reason, int? GracePeriod, JsonElement? Payload, int Ttl);

    private async Task<(CommandView Command, bool Created)> EnqueueAsync(MeshCaller caller, string cluster, string agentId, CommandDraft draft, bool queueIfOffline, string? idempotencyKey, CancellationToken cancellationToken)
    {
        var now = Now();
        await using var tx = await store.BeginWriteAsync(cancellationToken);
        if (idempotencyKey is not null && await tx.FindCommandByIdempotencyKeyAsync(caller.KeyId, idempotencyKey, cancellationToken) is { } earlier)
        {
            return (ToView(earlier), false);
        }
        if (await tx.GetAgentAsync(cluster, agentId, cancellationToken) is null)
        {
            throw MeshException.AgentNotFound(agentId);
        }
        var session = await tx.GetOpenSessionAsync(cluster, agentId, cancellationToken);
        var status = session?.StatusAt(now);
        if (!(status?.IsAlive() ?? false) && !queueIfOffline)
        {
            throw MeshException.Conflict("agent_not_alive", $"Agent '{agentId}' is not alive ({status?.ToWire() ?? "never joined"}); send \"queue_if_offline\": true to queue the command until it is.");
        }
        var command = new CommandRecord(
            Ids.NewCommandId(now), cluster, agentId, draft.Kind, CommandStatus.Queued,
            await tx.NextCommandSequenceAsync(cluster, agentId, cancellationToken),
            draft.Direction, draft.Mode, draft.Text, draft.From, draft.Reason, draft.GracePeriod, draft.Payload, null,
            now, null, null, now.AddSeconds(draft.Ttl), caller.KeyId, idempotencyKey);
        await tx.InsertCommandAsync(command, cancellationToken);
        var revision = await AppendCommandEventAsync(tx, command, now, cancellationToken);
        await CommitAsync(tx, revision, cancellationToken, MeshSignals.AgentKey(cluster, agentId));
        return (ToView(command), true);
    }

    /// <summary>Ends an agent's open session as killed, with its event; null when it had none.</summary>
    private async Task<long?> EndKilledSessionAsync(IMeshWriteTransaction tx, string cluster, string agentId, string? reason, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var session = await tx.GetOpenSessionAsync(cluster, agentId, cancellationToken);
        if (session is null)
        {
            return null;
        }
        var agent = await tx.GetAgentAsync(cluster, agentId, cancellationToken);
        var killed = session with { EndStatus = SessionStatus.Killed, EndedAt = now, EndReason = reason ?? "killed" };
        await tx.UpdateSessionAsync(killed, cancellationToken);
        return await AppendSessionEventAsync(tx, "session.killed", killed, agent, now, cancellationToken);
    }

    private static Task<long> AppendCommandEventAsync(IMeshWriteTransaction tx, CommandRecord command, DateTimeOffset now, CancellationToken cancellationToken) =>
        AppendAsync(tx, "command." + command.Status.ToWire(), command.Cluster, now, command.AgentId, null, ToView(command), MeshJsonContext.Default.CommandView, cancellationToken);

    private static CommandView ToView(CommandRecord command) => new()
    {
        CommandId = command.CommandId,
        AgentId = command.AgentId,
        Cluster = command.Cluster,
        Kind = command.Kind.ToWire(),
        Status = command.Status.ToWire(),
        Sequence = command.Sequence,
        Direction = command.Direction,
        Mode = command.Mode,
        Text = command.Text,
        From = command.From,
        Reason = command.Reason,
        GracePeriod = command.GracePeriod,
        Payload = command.Payload,
        Result = command.Result,
        CreatedAt = command.CreatedAt,
        DeliveredAt = command.DeliveredAt,
        CompletedAt = command.CompletedAt,
        ExpiresAt = command.Kind == CommandKind.Kill ? null : command.DeadlineAt,
        CreatedBy = command.CreatedBy,
    };

    /// <summary>Public for the stream endpoints, which write the same view.</summary>
    public static CommandView ViewOf(CommandRecord command) => ToView(command);
}
