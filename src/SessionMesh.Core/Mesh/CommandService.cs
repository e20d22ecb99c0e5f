using System.Text.Json;
using SessionMesh.Contracts;
using SessionMesh.Model;
using SessionMesh.Security;
using SessionMesh.Store;

namespace SessionMesh.Mesh;

/// <summary>
/// Commands: steers, messages and kills queued for an agent, handed out on its stream (<see cref="CommandStream"/>),
/// acked by the agent. Durable, at least once, in order per agent.
/// </summary>
public sealed class CommandService
{
    private readonly MeshRuntime _mesh;
    private readonly SessionService _sessions;
    private readonly UnwrittenDeliveries _unwritten = new();
    private readonly DeliveryRecorder _recorder;

    public CommandService(MeshRuntime mesh, SessionService sessions)
    {
        _mesh = mesh;
        _sessions = sessions;
        _recorder = new DeliveryRecorder(WriteDeliveriesAsync);
    }

    private static readonly string[] s_modes = ["inject", "interrupt", "enqueue"];

    /// <summary>How long a steer or message answer waits for a listening agent's stream to take the command.</summary>
    private static readonly TimeSpan s_settleTime = TimeSpan.FromSeconds(1);

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
        var ttl = Validate.Ttl(request.Ttl, _mesh.Options.DefaultCommandTtl, max: MeshLimits.MaxCommandTtl);
        var payload = Validate.Json(request.Payload, "payload", _mesh.Options.MaxPayloadBytes);
        var cluster = caller.ResolveCluster(request.Cluster);
        MeshAudit.InCluster(cluster);
        caller.Require(MeshScopes.Steer);
        var draft = new CommandDraft(CommandKind.Steer, direction, mode, null, null, payload, ttl);
        return await EnqueueAsync(caller, cluster, agentId, draft, request.QueueIfOffline ?? false, Validate.IdempotencyKey(idempotencyKey), cancellationToken);
    }

    /// <summary>Queues a message for an agent, from an operator (<c>steer</c> scope) or from another agent (<c>agent</c> scope).</summary>
    public async Task<(CommandView Command, bool Created)> MessageAsync(MeshCaller caller, string agentId, MessageRequest request, string? cluster, string? idempotencyKey, CancellationToken cancellationToken)
    {
        Validate.AgentId(agentId);
        var text = Validate.Directive(request.Text, "text");
        var from = request.From is null ? caller.AgentId : Validate.AgentId(request.From, "from");
        var ttl = Validate.Ttl(request.Ttl, _mesh.Options.DefaultCommandTtl, max: MeshLimits.MaxCommandTtl);
        var payload = Validate.Json(request.Payload, "payload", _mesh.Options.MaxPayloadBytes);
        var resolved = caller.ResolveCluster(cluster);
        MeshAudit.InCluster(resolved);
        if (!caller.Scopes.Covers(MeshScopes.Steer))
        {
            // An agent writes to another agent as itself.
            caller.RequireActingFor(from ?? throw MeshException.Invalid("from", "'from' is required when an agent key sends a message."), field: "from");
        }
        var draft = new CommandDraft(CommandKind.Message, null, null, text, from, payload, ttl);
        return await EnqueueAsync(caller, resolved, agentId, draft, request.QueueIfOffline ?? false, Validate.IdempotencyKey(idempotencyKey), cancellationToken);
    }

    /// <summary>
    /// A just-queued command as it stands a moment later: when the agent's stream is open on this server, the push
    /// takes a moment, so this waits briefly for it and the answer can say "delivered". An agent that is away is not
    /// waited for.
    /// </summary>
    public async Task<CommandView> SettleAsync(CommandView command, CancellationToken cancellationToken)
    {
        var agentKey = SignalKeys.Agent(command.Cluster, command.AgentId);
        if (command.Status != "queued" || !_mesh.Signals.HasListener(agentKey))
        {
            return command;
        }
        // Most often the stream has handed the command out already: then no signal is taken (see ReleaseUnfired).
        if (HandedOut(command) is { } pushed)
        {
            return pushed;
        }
        // Real time on purpose: a fake clock must not make a steer wait forever. The timer is cancelled once the push wins.
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var settled = Task.Delay(s_settleTime, timer.Token);
        var commandKey = SignalKeys.Command(command.CommandId);
        Task? signal = null;
        try
        {
            while (true)
            {
                // A hand-out by a stream of this server is known here, before and for a while after the store hears of
                // it: on one server the answer needs no read (a steer whose hand-out memory no longer holds is read at
                // the end). A stream on another replica is heard of only through the store: its hand-out wakes this wait
                // before its write lands, so the wait goes on for the write's own signal.
                signal = _mesh.Signals.Next(commandKey);
                if (HandedOut(command) is { } handed)
                {
                    return handed;
                }
                if (_mesh.Replicated)
                {
                    var current = await _mesh.Store.GetCommandAsync(command.CommandId, cancellationToken);
                    if (current is null || current.Status != CommandStatus.Queued)
                    {
                        return current is null ? command : MeshViews.Command(current);
                    }
                }
                if (await Task.WhenAny(signal, settled) == settled)
                {
                    if (HandedOut(command) is { } handedLate)
                    {
                        return handedLate;
                    }
                    if (_mesh.Signals is IReplicaSignals replicas && !settled.IsCanceled)
                    {
                        // No push came: a replica heard of as holding the stream is gone; steers to the agent stop waiting for it.
                        replicas.ForgetRemoteListeners(agentKey);
                    }
                    var last = await _mesh.Store.GetCommandAsync(command.CommandId, cancellationToken);
                    return last is null ? command : MeshViews.Command(_unwritten.Overlay(last));
                }
            }
        }
        finally
        {
            await timer.CancelAsync();
            ReleaseUnfired(commandKey, signal);
        }
    }

    /// <summary>
    /// Lets go of a command's signal that a wait took and that never fired: nothing may notify that command again (a
    /// steer nobody acks), and the signal would be held for good. Others waiting on it wake and look again.
    /// </summary>
    private void ReleaseUnfired(string commandKey, Task? signal)
    {
        if (signal is { IsCompleted: false })
        {
            _mesh.Signals.Release(commandKey);
        }
    }

    /// <summary>A just-queued steer or message as delivered, when a stream has handed it out and the store does not know yet.</summary>
    private CommandView? HandedOut(CommandView queued) => _unwritten.WasHandedOut(queued.CommandId) is { } at
        ? queued with { Status = CommandStatus.Delivered.ToWire(), DeliveredAt = at, ExpiresAt = null }
        : null;

    /// <summary>Where a command stands; with <paramref name="wait"/>, waits up to that long for it to complete.</summary>
    public async Task<CommandView> GetAsync(MeshCaller caller, string commandId, TimeSpan wait, CancellationToken cancellationToken)
    {
        var deadline = _mesh.Time.GetUtcNow() + wait;
        var commandKey = SignalKeys.Command(commandId);
        Task? signal = null;
        try
        {
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                // Taken before the read, so a change in between is not missed; a read without a wait takes none.
                signal = wait > TimeSpan.Zero ? _mesh.Signals.Next(commandKey) : null;
                var command = await _mesh.Store.GetCommandAsync(commandId, cancellationToken) is { } stored ? _unwritten.Overlay(stored) : null;
                if (command is null || !caller.CanSee(command.Cluster))
                {
                    throw MeshException.NotFound("command_not_found", $"No command '{commandId}'.");
                }
                if (!caller.Scopes.Covers(MeshScopes.Read))
                {
                    caller.RequireActingFor(command.AgentId);
                }
                var remaining = deadline - _mesh.Time.GetUtcNow();
                if (!command.IsPending || remaining <= TimeSpan.Zero || signal is null)
                {
                    return MeshViews.Command(command);
                }
                await _mesh.WaitAsync(signal, remaining, cancellationToken);
            }
        }
        finally
        {
            ReleaseUnfired(commandKey, signal);
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
        var result = Validate.Json(request.Result, "result", _mesh.Options.MaxPayloadBytes);
        var resolved = caller.ResolveCluster(cluster);
        MeshAudit.InCluster(resolved);
        caller.RequireActingFor(agentId);
        var now = _mesh.Now();
        await using var tx = await _mesh.Store.BeginWriteAsync(cancellationToken);
        var command = await tx.GetCommandAsync(commandId, cancellationToken);
        if (command is null || command.Cluster != resolved || command.AgentId != agentId)
        {
            throw MeshException.NotFound("command_not_found", $"Agent '{agentId}' has no command '{commandId}'.");
        }
        if (!command.IsPending)
        {
            return command.Status == status
                ? MeshViews.Command(command)
                : throw MeshException.Conflict("command_completed", $"Command '{commandId}' is already {command.Status.ToWire()}.");
        }
        long revision = 0;
        if (command.Status == CommandStatus.Queued && _unwritten.HandedAt(commandId) is { } handedAt)
        {
            // The stream's write of the delivery has not landed yet: it goes first, so the events stay in order.
            revision = await WriteDeliveryAsync(tx, command, handedAt, cancellationToken) ?? revision;
            command = UnwrittenDeliveries.Delivered(command, handedAt);
        }
        command = command with { Status = status, Result = result, CompletedAt = now, DeliveredAt = command.DeliveredAt ?? now };
        await tx.UpdateCommandAsync(command, cancellationToken);
        revision = await AppendEventAsync(tx, command, now, cancellationToken);
        if (command.Kind == CommandKind.Kill && status == CommandStatus.Acked)
        {
            revision = await EndKilledSessionAsync(tx, resolved, agentId, command.Reason, now, cancellationToken) ?? revision;
        }
        await _mesh.CommitAsync(tx, revision, cancellationToken, SignalKeys.Command(commandId), SignalKeys.Agent(resolved, agentId));
        return MeshViews.Command(command);
    }

    /// <summary>
    /// Kills an agent and, with cascade, its whole sub-tree as committed when the kill commits: the tree is read
    /// inside the kill's transaction, and a join under a killed parent is refused. Graceful: each agent gets a kill
    /// command and the grace period to finish before the mesh ends its session. Force (or a grace period of 0):
    /// sessions end now. Without cascade, live children are left running and reported as orphaned.
    /// </summary>
    public async Task<KillResponse> KillAsync(MeshCaller caller, string agentId, KillRequest request, CancellationToken cancellationToken)
    {
        Validate.AgentId(agentId);
        var cluster = caller.ResolveCluster(request.Cluster);
        MeshAudit.InCluster(cluster);
        caller.Require(MeshScopes.Kill);
        var grace = request.GracePeriod ?? _mesh.Options.DefaultGracePeriod;
        if (grace is < 0 or > MeshLimits.MaxGracePeriod)
        {
            throw MeshException.Invalid("grace_period", $"'grace_period' must be between 0 and {MeshLimits.MaxGracePeriod} seconds.");
        }
        var reason = Validate.Text(request.Reason, "reason", MeshLimits.MaxReasonLength) ?? "killed by operator";
        var force = request.Force || grace == 0;

        var now = _mesh.Now();
        var appliedGrace = grace;
        var killed = new List<KilledAgent>();
        var notify = new List<string>();
        var orphaned = new List<string>();
        long revision = 0;
        KillResponse response;
        await using (var tx = await _mesh.Store.BeginWriteAsync(cancellationToken))
        {
            var target = await tx.GetAgentAsync(cluster, agentId, cancellationToken) ?? throw MeshException.AgentNotFound(agentId);
            var agents = request.Cascade ? await AgentTree.CollectSubtreeAsync(target, ids => tx.GetChildrenAsync(cluster, ids, cancellationToken)) : [target];
            foreach (var agent in agents)
            {
                var session = _mesh.Leases.OverlayOrNull(await tx.GetOpenSessionAsync(cluster, agent.AgentId, cancellationToken));
                if (session is null || session.StatusAt(now) == SessionStatus.Expired)
                {
                    continue;
                }
                notify.Add(SignalKeys.Agent(cluster, agent.AgentId));
                if (force)
                {
                    (_, var ended) = await _sessions.EndAsync(tx, session, SessionStatus.Killed, reason, now, cancellationToken);
                    revision = ended;
                    killed.Add(new KilledAgent { AgentId = agent.AgentId, SessionId = session.SessionId, Status = "killed" });
                    continue;
                }
                var (command, commandRevision) = await QueueKillAsync(tx, caller.KeyId, cluster, agent.AgentId, reason, grace, now, cancellationToken);
                revision = commandRevision ?? revision;
                killed.Add(new KilledAgent { AgentId = agent.AgentId, SessionId = session.SessionId, CommandId = command.CommandId, Status = "killing", Deadline = command.DeadlineAt });
                if (agent.AgentId == agentId && commandRevision is null)
                {
                    // A kill was already under way: its grace period is the one that applies to the agent.
                    appliedGrace = command.GracePeriod ?? grace;
                }
            }
            if (!request.Cascade)
            {
                var children = await tx.GetChildrenAsync(cluster, [agentId], cancellationToken);
                foreach (var child in children.OrderBy(c => c.AgentId, StringComparer.Ordinal))
                {
                    if (_mesh.Leases.OverlayOrNull(await tx.GetOpenSessionAsync(cluster, child.AgentId, cancellationToken)) is { } open && open.StatusAt(now).IsAlive())
                    {
                        orphaned.Add(child.AgentId);
                    }
                }
            }
            response = new KillResponse
            {
                AgentId = agentId,
                Status = killed.FirstOrDefault(k => k.AgentId == agentId)?.Status ?? "already_ended",
                Reason = reason,
                Force = force,
                Cascade = request.Cascade,
                Propagation = request.Propagation,
                GracePeriod = force ? 0 : appliedGrace,
                Killed = killed,
                Orphaned = orphaned,
            };
            // What was asked and what it reached, in the history and the audit log, whatever the outcome.
            revision = await MeshRuntime.AppendEventAsync(tx, "agent.kill_requested", cluster, now, agentId, null, response, MeshJsonContext.Default.KillResponse, cancellationToken);
            if (MeshAudit.Current is { } audit)
            {
                audit.Code = $"kill_{request.Propagation}{(force ? "_forced" : "")}";
            }
            await _mesh.CommitAsync(tx, revision, cancellationToken, notify);
        }
        MeshLog.KillRequested(_mesh.Logger, cluster, agentId, caller.KeyId, force, request.Cascade, killed.Count);
        return response;
    }

    /// <summary>
    /// Hands an agent its pending commands after <paramref name="afterSequence"/>, in order, as delivered. Commands
    /// delivered before and not yet acked are handed again: delivery is at least once. The hand-out does not wait for
    /// the store: "delivered" is written just after, in a write that joins the next group commit (see
    /// <see cref="UnwrittenDeliveries"/>); a crash before it leaves the command queued, to be handed out again. With
    /// <paramref name="maxBytes"/>, the commands handed out stop before their JSON would pass that budget (at least one).
    /// </summary>
    internal async Task<IReadOnlyList<CommandRecord>> DeliverAsync(string cluster, string agentId, long afterSequence, int limit, CancellationToken cancellationToken, long maxBytes = long.MaxValue) =>
        HandOut(await _mesh.Store.ListPendingCommandsAsync(cluster, agentId, afterSequence, limit, cancellationToken), maxBytes);

    /// <summary>
    /// Hands out <paramref name="pending"/> — read from the store, or just committed (<see cref="FreshCommands"/>) — as
    /// <see cref="DeliverAsync"/> does.
    /// </summary>
    internal IReadOnlyList<CommandRecord> HandOut(IReadOnlyList<CommandRecord> pending, long maxBytes = long.MaxValue)
    {
        if (maxBytes < long.MaxValue)
        {
            // Measured as listed; delivery adds its status and time, a few bytes each.
            pending = pending.Take(PageBudget.Fit(pending, c => PageBudget.SizeOf(MeshViews.Command(c), MeshJsonContext.Default.CommandView) + 64, maxBytes)).ToList();
        }
        if (pending.Count == 0)
        {
            return pending;
        }
        var now = _mesh.Now();
        var handed = pending.Select(command => UnwrittenDeliveries.Delivered(command, now)).ToList();
        _unwritten.Handed(pending, now);
        _recorder.Add(pending);
        _mesh.Notify(0, handed.Select(c => SignalKeys.Command(c.CommandId)));
        return handed;
    }

    /// <summary>Waits for the deliveries being written now, so a clean stop leaves none to hand out again.</summary>
    internal Task DrainDeliveriesAsync() => _recorder.DrainAsync();

    private async Task WriteDeliveriesAsync(IReadOnlyList<CommandRecord> handed)
    {
        var recorded = false;
        try
        {
            // In the next steer's batch when one comes soon: under load a hand-out costs no fsync of its own, and until
            // it is written reads show the hand-outs from memory (UnwrittenDeliveries). Not with replicas: a steer taken
            // by another replica answers once this write is seen (SettleAsync), so it goes at once.
            await using var tx = _mesh.Replicated
                ? await _mesh.Store.BeginWriteAsync(CancellationToken.None)
                : await _mesh.Store.BeginRidingWriteAsync(MeshRuntime.RidingPatience, CancellationToken.None);
            long revision = 0;
            foreach (var listed in handed)
            {
                // Not read back first: a command the store still has queued is the one listed (only its status and
                // delivery fields ever change, and only from queued), so its event is the listed one, delivered.
                var at = _unwritten.HandedAt(listed.CommandId) ?? _mesh.Now();
                if (await tx.RecordDeliveryAsync(listed.CommandId, at, CancellationToken.None) == CommandDelivery.First)
                {
                    revision = await AppendEventAsync(tx, UnwrittenDeliveries.Delivered(listed, at), at, CancellationToken.None);
                }
            }
            await _mesh.CommitAsync(tx, revision, CancellationToken.None);
            recorded = true;
            if (_mesh.Replicated)
            {
                // A steer taken by another replica waits for this write to answer delivered (SettleAsync).
                _mesh.Notify(0, handed.Select(c => SignalKeys.Command(c.CommandId)));
            }
        }
        catch (Exception ex)
        {
            // The commands stay queued in the store: the agent gets them again on its next stream.
            MeshLog.DeliveryWriteFailed(_mesh.Logger, handed.Count, ex);
        }
        finally
        {
            foreach (var command in handed)
            {
                _unwritten.Written(command.CommandId, recorded);
            }
        }
    }

    /// <summary>Writes one hand-out of a pending command; the event revision when it was its first delivery.</summary>
    private static async Task<long?> WriteDeliveryAsync(IMeshWriteTransaction tx, CommandRecord command, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var first = command.Status == CommandStatus.Queued;
        command = UnwrittenDeliveries.Delivered(command, at);
        await tx.UpdateCommandAsync(command, cancellationToken);
        return first ? await AppendEventAsync(tx, command, at, cancellationToken) : null;
    }

    /// <summary>
    /// The sweeper's command work: expires undelivered steers and messages past their deadline, ends the
    /// sessions of agents whose kill grace period ran out, and starts a graceful kill for sessions past
    /// their max_runtime. Returns how many commands or sessions changed.
    /// </summary>
    internal async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        const int Batch = 500;
        var now = _mesh.Now();
        var changed = 0;
        var notify = new List<string>();
        long revision = 0;
        await using var tx = await _mesh.Store.BeginWriteAsync(cancellationToken);
        foreach (var command in await tx.ListDueCommandsAsync(now, Batch, cancellationToken))
        {
            if (command.Status == CommandStatus.Queued && _unwritten.HandedAt(command.CommandId) is not null)
            {
                continue; // Delivered; the store learns it in a moment.
            }
            var expired = command with { Status = CommandStatus.Expired, CompletedAt = now };
            await tx.UpdateCommandAsync(expired, cancellationToken);
            revision = await AppendEventAsync(tx, expired, now, cancellationToken);
            if (command.Kind == CommandKind.Kill)
            {
                revision = await EndKilledSessionAsync(tx, command.Cluster, command.AgentId, $"{command.Reason} (grace period elapsed)", now, cancellationToken) ?? revision;
            }
            notify.Add(SignalKeys.Command(command.CommandId));
            notify.Add(SignalKeys.Agent(command.Cluster, command.AgentId));
            changed++;
        }
        foreach (var session in await tx.ListRuntimeExceededSessionsAsync(now, Batch, cancellationToken))
        {
            if (await tx.GetPendingKillAsync(session.Cluster, session.AgentId, cancellationToken) is not null)
            {
                continue;
            }
            var (_, killRevision) = await QueueKillAsync(tx, "mesh", session.Cluster, session.AgentId, "max_runtime_exceeded", _mesh.Options.DefaultGracePeriod, now, cancellationToken);
            revision = killRevision ?? revision;
            notify.Add(SignalKeys.Agent(session.Cluster, session.AgentId));
            changed++;
        }
        await _mesh.CommitAsync(tx, revision, cancellationToken, notify);
        return changed;
    }

    private sealed record CommandDraft(CommandKind Kind, string? Direction, string? Mode, string? Text, string? From, JsonElement? Payload, int Ttl);

    private async Task<(CommandView Command, bool Created)> EnqueueAsync(MeshCaller caller, string cluster, string agentId, CommandDraft draft, bool queueIfOffline, string? idempotencyKey, CancellationToken cancellationToken)
    {
        var now = _mesh.Now();
        await using var tx = await _mesh.Store.BeginWriteAsync(cancellationToken);
        if (idempotencyKey is not null && await tx.FindCommandByIdempotencyKeyAsync(caller.KeyId, idempotencyKey, cancellationToken) is { } earlier)
        {
            return (MeshViews.Command(earlier), false);
        }
        // An open session means the agent exists: only a steer to an agent without one reads the agent.
        var session = _mesh.Leases.OverlayOrNull(await tx.GetOpenSessionAsync(cluster, agentId, cancellationToken));
        if (session is null && await tx.GetAgentAsync(cluster, agentId, cancellationToken) is null)
        {
            throw MeshException.AgentNotFound(agentId);
        }
        if (!(session?.StatusAt(now).IsAlive() ?? false) && !queueIfOffline)
        {
            var last = session ?? await tx.GetLatestSessionAsync(cluster, agentId, cancellationToken);
            throw MeshException.Conflict("agent_not_alive", $"Agent '{agentId}' is not alive ({LastStatus(last, now)}); send \"queue_if_offline\": true to queue the command until it is.");
        }
        var command = new CommandRecord(
            Ids.NewCommandId(now), cluster, agentId, draft.Kind, CommandStatus.Queued,
            await tx.NextCommandSequenceAsync(cluster, agentId, cancellationToken),
            draft.Direction, draft.Mode, draft.Text, draft.From, null, null, draft.Payload, null,
            now, null, null, now.AddSeconds(draft.Ttl), caller.KeyId, idempotencyKey);
        await MeshRuntime.InsertCommandAsync(tx, command, cancellationToken);
        var revision = await AppendEventAsync(tx, command, now, cancellationToken);
        await _mesh.CommitAsync(tx, revision, cancellationToken, SignalKeys.Agent(cluster, agentId));
        return (MeshViews.Command(command), true);
    }

    /// <summary>How an agent that is not alive stands, for people: <c>killed at ...</c>, <c>stale since ...</c>, <c>never joined</c>.</summary>
    private static string LastStatus(SessionRecord? session, DateTimeOffset now)
    {
        if (session is null)
        {
            return "never joined";
        }
        var status = session.StatusAt(now);
        var since = session.EndedAt ?? (status == SessionStatus.Stale || status == SessionStatus.Expired ? session.ExpiresAt : now);
        var when = since.UtcDateTime.ToString(UtcTimestampConverter.Format, System.Globalization.CultureInfo.InvariantCulture);
        return session.IsOpen ? $"{status.ToWire()} since {when}" : $"{status.ToWire()} at {when}";
    }

    /// <summary>Queues a kill command unless one is already pending for the agent; returns it and the event revision.</summary>
    private static async Task<(CommandRecord Command, long? Revision)> QueueKillAsync(IMeshWriteTransaction tx, string createdBy, string cluster, string agentId, string reason, int grace, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (await tx.GetPendingKillAsync(cluster, agentId, cancellationToken) is { } pending)
        {
            return (pending, null);
        }
        var command = new CommandRecord(
            Ids.NewCommandId(now), cluster, agentId, CommandKind.Kill, CommandStatus.Queued,
            await tx.NextCommandSequenceAsync(cluster, agentId, cancellationToken),
            null, null, null, null, reason, grace, null, null, now, null, null, now.AddSeconds(grace), createdBy, null);
        await MeshRuntime.InsertCommandAsync(tx, command, cancellationToken);
        return (command, await AppendEventAsync(tx, command, now, cancellationToken));
    }

    /// <summary>
    /// The mesh's answer to a stall, in the sweep's write, as the session's <c>on_stall</c> asks: a message asking the
    /// agent for progress, or a graceful kill with reason <c>stalled</c>. The revision of its event; null for <c>none</c>.
    /// </summary>
    internal async Task<long?> ActOnStallAsync(IMeshWriteTransaction tx, SessionRecord session, DateTimeOffset now, CancellationToken cancellationToken) => session.OnStall switch
    {
        "message" => await QueueMeshMessageAsync(tx, _mesh.Options, session, $"No progress for {session.StallAfter} s: report progress, or finish and leave.", now, cancellationToken),
        "kill" => (await QueueKillAsync(tx, "mesh", session.Cluster, session.AgentId, "stalled", _mesh.Options.DefaultGracePeriod, now, cancellationToken)).Revision,
        _ => null,
    };

    /// <summary>
    /// The mesh's answer to a budget alert, in the write that records it: past the soft limit, a message to the agent;
    /// spent, a graceful kill of the agent and its whole sub-tree with reason <c>budget_exceeded</c>. Each is audited as
    /// the mesh's own act. The revision of the last event; <paramref name="notify"/> gets the streams to wake.
    /// </summary>
    internal static async Task<long?> ActOnBudgetAsync(IMeshWriteTransaction tx, MeshOptions options, SessionRecord holder, string alert, DateTimeOffset now, List<string> notify, CancellationToken cancellationToken)
    {
        var percent = (int)Math.Floor(100 * (holder.Budget?.UsedFraction(holder.BudgetUsed) ?? 0));
        await tx.AppendAuditAsync(new AuditRecord(0, now, "mesh", holder.Cluster, "MESH", $"/api/session-mesh/agents/{holder.AgentId}/usage", alert == "warned" ? 200 : 409,
            alert == "warned" ? "budget_warning" : "budget_exceeded"), cancellationToken);
        notify.Add(SignalKeys.Agent(holder.Cluster, holder.AgentId));
        if (alert == "warned")
        {
            return await QueueMeshMessageAsync(tx, options, holder, $"Budget warning: {percent}% of the budget is used (with sub-agents). Finish up, or ask for more.", now, cancellationToken);
        }
        if (await tx.GetAgentAsync(holder.Cluster, holder.AgentId, cancellationToken) is not { } target)
        {
            return null;
        }
        long? revision = null;
        foreach (var agent in await AgentTree.CollectSubtreeAsync(target, ids => tx.GetChildrenAsync(holder.Cluster, ids, cancellationToken)))
        {
            if (await tx.GetOpenSessionAsync(holder.Cluster, agent.AgentId, cancellationToken) is null)
            {
                continue;
            }
            revision = (await QueueKillAsync(tx, "mesh", holder.Cluster, agent.AgentId, "budget_exceeded", options.DefaultGracePeriod, now, cancellationToken)).Revision ?? revision;
            notify.Add(SignalKeys.Agent(holder.Cluster, agent.AgentId));
        }
        return revision;
    }

    /// <summary>Queues a message from the mesh itself to a session's agent; the revision of its event.</summary>
    private static async Task<long> QueueMeshMessageAsync(IMeshWriteTransaction tx, MeshOptions options, SessionRecord session, string text, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var message = new CommandRecord(
            Ids.NewCommandId(now), session.Cluster, session.AgentId, CommandKind.Message, CommandStatus.Queued,
            await tx.NextCommandSequenceAsync(session.Cluster, session.AgentId, cancellationToken),
            null, null, text, "mesh", null, null, null, null,
            now, null, null, now.AddSeconds(options.DefaultCommandTtl), "mesh", null);
        await MeshRuntime.InsertCommandAsync(tx, message, cancellationToken);
        return await AppendEventAsync(tx, message, now, cancellationToken);
    }

    /// <summary>Ends an agent's open session as killed, with its event; null when it had none.</summary>
    private async Task<long?> EndKilledSessionAsync(IMeshWriteTransaction tx, string cluster, string agentId, string? reason, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var session = await tx.GetOpenSessionAsync(cluster, agentId, cancellationToken);
        return session is null ? null : (await _sessions.EndAsync(tx, session, SessionStatus.Killed, reason ?? "killed", now, cancellationToken)).Revision;
    }

    private static Task<long> AppendEventAsync(IMeshWriteTransaction tx, CommandRecord command, DateTimeOffset now, CancellationToken cancellationToken) =>
        MeshRuntime.AppendEventAsync(tx, "command." + command.Status.ToWire(), command.Cluster, now, command.AgentId, null, MeshViews.Command(command), MeshJsonContext.Default.CommandView, cancellationToken);
}
