using SessionMesh.Contracts;
using SessionMesh.Model;
using SessionMesh.Security;
using SessionMesh.Store;

namespace SessionMesh.Mesh;

public sealed partial class MeshService
{
    /// <summary>
    /// Kills an agent and, with cascade, its whole sub-tree. Graceful: each agent gets a kill command and the
    /// grace period to finish before the mesh ends its session. Force (or a grace period of 0): sessions end now.
    /// Without cascade, live children are left running and reported as orphaned.
    /// </summary>
    public async Task<KillResponse> KillAsync(MeshCaller caller, string agentId, KillRequest request, CancellationToken cancellationToken)
    {
        Validate.AgentId(agentId);
        var cluster = caller.ResolveCluster(request.Cluster);
        caller.Require(MeshScopes.Kill);
        var grace = request.GracePeriod ?? options.DefaultGracePeriod;
        if (grace is < 0 or > MeshLimits.MaxGracePeriod)
        {
            throw MeshException.Invalid("grace_period", $"'grace_period' must be between 0 and {MeshLimits.MaxGracePeriod} seconds.");
        }
        var reason = Validate.Text(request.Reason, "reason", MeshLimits.MaxReasonLength) ?? "killed by operator";
        var force = request.Force || grace == 0;

        var target = await store.GetAgentAsync(cluster, agentId, cancellationToken) ?? throw MeshException.AgentNotFound(agentId);
        var agents = request.Cascade ? await CollectSubtreeAsync(cluster, target, cancellationToken) : [target];
        var now = Now();
        var killed = new List<KilledAgent>();
        var notify = new List<string>();
        long revision = 0;
        await using (var tx = await store.BeginWriteAsync(cancellationToken))
        {
            foreach (var agent in agents)
            {
                var session = await tx.GetOpenSessionAsync(cluster, agent.AgentId, cancellationToken);
                if (session is null || session.StatusAt(now) == SessionStatus.Expired)
                {
                    continue;
                }
                notify.Add(MeshSignals.AgentKey(cluster, agent.AgentId));
                if (force)
                {
                    revision = await EndKilledSessionAsync(tx, cluster, agent.AgentId, reason, now, cancellationToken) ?? revision;
                    killed.Add(new KilledAgent { AgentId = agent.AgentId, SessionId = session.SessionId, Status = "killed" });
                    continue;
                }
                var (command, commandRevision) = await QueueKillAsync(tx, caller.KeyId, cluster, agent.AgentId, reason, grace, now, cancellationToken);
                revision = commandRevision ?? revision;
                killed.Add(new KilledAgent { AgentId = agent.AgentId, SessionId = session.SessionId, CommandId = command.CommandId, Status = "killing" });
            }
            await CommitAsync(tx, revision, cancellationToken, notify);
        }

        var orphaned = new List<string>();
        if (!request.Cascade)
        {
            var children = await store.GetChildrenAsync(cluster, [agentId], cancellationToken);
            var open = await store.GetOpenSessionsAsync(cluster, children.Select(c => c.AgentId).ToList(), cancellationToken);
            orphaned = open.Where(s => s.StatusAt(now).IsAlive()).Select(s => s.AgentId).Order(StringComparer.Ordinal).ToList();
        }
        var targetOutcome = killed.FirstOrDefault(k => k.AgentId == agentId);
        return new KillResponse
        {
            AgentId = agentId,
            Status = targetOutcome?.Status ?? "already_ended",
            Reason = reason,
            Force = force,
            Cascade = request.Cascade,
            GracePeriod = force ? 0 : grace,
            Killed = killed,
            Orphaned = orphaned,
        };
    }

    /// <summary>Queues a kill command unless one is already pending for the agent; returns it and the event revision.</summary>
    private async Task<(CommandRecord Command, long? Revision)> QueueKillAsync(IMeshWriteTransaction tx, string createdBy, string cluster, string agentId, string reason, int grace, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (await tx.HasPendingKillAsync(cluster, agentId, cancellationToken))
        {
            // Writers are serialised, so the last committed state read here is the transaction's own.
            var pending = await store.ListPendingCommandsAsync(cluster, agentId, 0, int.MaxValue, cancellationToken);
            return (pending.First(c => c.Kind == CommandKind.Kill), null);
        }
        var command = new CommandRecord(
            Ids.NewCommandId(now), cluster, agentId, CommandKind.Kill, CommandStatus.Queued,
            await tx.NextCommandSequenceAsync(cluster, agentId, cancellationToken),
            null, null, null, null, reason, grace, null, null, now, null, null, now.AddSeconds(grace), createdBy, null);
        await tx.InsertCommandAsync(command, cancellationToken);
        return (command, await AppendCommandEventAsync(tx, command, now, cancellationToken));
    }

    /// <summary>
    /// The sweeper's command work: expires undelivered steers and messages past their deadline, ends the
    /// sessions of agents whose kill grace period ran out, and starts a graceful kill for sessions past
    /// their max_runtime. Returns how many commands or sessions changed.
    /// </summary>
    public async Task<int> SweepCommandsAsync(CancellationToken cancellationToken)
    {
        const int Batch = 500;
        var now = Now();
        var changed = 0;
        var notify = new List<string>();
        long revision = 0;
        await using var tx = await store.BeginWriteAsync(cancellationToken);
        foreach (var command in await tx.ListDueCommandsAsync(now, Batch, cancellationToken))
        {
            var expired = command with { Status = CommandStatus.Expired, CompletedAt = now };
            await tx.UpdateCommandAsync(expired, cancellationToken);
            revision = await AppendCommandEventAsync(tx, expired, now, cancellationToken);
            if (command.Kind == CommandKind.Kill)
            {
                revision = await EndKilledSessionAsync(tx, command.Cluster, command.AgentId, $"{command.Reason} (grace period elapsed)", now, cancellationToken) ?? revision;
            }
            notify.Add(MeshSignals.CommandKey(command.CommandId));
            notify.Add(MeshSignals.AgentKey(command.Cluster, command.AgentId));
            changed++;
        }
        foreach (var session in await tx.ListRuntimeExceededSessionsAsync(now, Batch, cancellationToken))
        {
            if (await tx.HasPendingKillAsync(session.Cluster, session.AgentId, cancellationToken))
            {
                continue;
            }
            var (_, killRevision) = await QueueKillAsync(tx, "mesh", session.Cluster, session.AgentId, "max_runtime_exceeded", options.DefaultGracePeriod, now, cancellationToken);
            revision = killRevision ?? revision;
            notify.Add(MeshSignals.AgentKey(session.Cluster, session.AgentId));
            changed++;
        }
        await CommitAsync(tx, revision, cancellationToken, notify);
        return changed;
    }
}
