using SessionMesh.Contracts;
using SessionMesh.Model;
using SessionMesh.Security;
using SessionMesh.Store;

namespace SessionMesh.Mesh;

/// <summary>
/// Sessions: an agent joins (superseding its open session), renews its lease, leaves; operators read and list them.
/// Every way a session ends goes through <see cref="EndAsync"/>. Open leases live in the <see cref="LeaseTable"/>:
/// a heartbeat renews one in memory, and every read of a session sees the lease as memory has it.
/// </summary>
public sealed class SessionService(MeshRuntime mesh)
{
    private static readonly IReadOnlyDictionary<string, SessionRecord> s_noHolders = new Dictionary<string, SessionRecord>();

    /// <summary>An agent joins: a new session, superseding any open one of the same agent.</summary>
    public async Task<SessionView> JoinAsync(MeshCaller caller, JoinRequest request, CancellationToken cancellationToken)
    {
        var agentId = Validate.AgentId(request.AgentId);
        var parentId = request.ParentId is null ? null : Validate.AgentId(request.ParentId, "parent_id");
        if (parentId == agentId)
        {
            throw MeshException.Invalid("parent_id", "An agent cannot be its own parent.");
        }
        var ttl = Validate.Ttl(request.Ttl, mesh.Options.DefaultSessionTtl);
        var maxRuntime = request.MaxRuntime is null ? (int?)null : Validate.Ttl(request.MaxRuntime, 0, "max_runtime", MeshLimits.MaxRuntime);
        var (stallAfter, onStall) = Validate.Stall(request.StallAfter, request.OnStall);
        var askedBudget = Validate.Budget(request.Budget, maxRuntime);
        var labels = request.Labels is null ? null : Validate.Labels(request.Labels);
        var specializations = RegistryService.ValidateInputs(request.Specializations);
        var cluster = caller.ResolveCluster(request.Cluster);
        MeshAudit.InCluster(cluster);
        caller.RequireActingFor(agentId);

        // The spawn limit counts live children in the store, by their leases: renewals must be there first. Only a child's
        // join counts them, so a fleet's heartbeats do not make every top-level join wait for a checkpoint.
        if (parentId is not null || (mesh.Leases.HasUnpersistedChanges && await mesh.Store.GetAgentAsync(cluster, agentId, cancellationToken) is { ParentId: not null }))
        {
            await mesh.Leases.FlushAsync(cancellationToken);
        }
        var now = mesh.Now();
        await using var tx = await mesh.Store.BeginWriteAsync(cancellationToken);
        var agent = await tx.GetAgentAsync(cluster, agentId, cancellationToken);
        AgentTree.CheckReparent(caller, agent, parentId);
        var effectiveParent = parentId ?? agent?.ParentId;
        if (effectiveParent is not null)
        {
            await CheckSpawnLimitsAsync(tx, cluster, agentId, effectiveParent, agent, now, cancellationToken);
        }

        // A new agent has no session, specialization or command yet: its join skips the reads that look for them.
        var known = agent is not null;
        agent = agent is null
            ? new AgentRecord(cluster, agentId, effectiveParent, labels ?? [], now, now)
            : agent with { ParentId = effectiveParent, Labels = labels ?? agent.Labels, UpdatedAt = now };
        await tx.UpsertAgentAsync(agent, cancellationToken);

        long revision = 0;
        string? supersededId = null;
        if (known && await tx.GetOpenSessionAsync(cluster, agentId, cancellationToken) is { } previous)
        {
            (_, revision) = await EndAsync(tx, previous, SessionStatus.Superseded, "superseded by a new join", now, cancellationToken);
            supersededId = previous.SessionId;
        }

        foreach (var spec in specializations)
        {
            var record = new SpecializationRecord(cluster, agentId, spec.Name!, spec.Description, spec.Tags ?? [], spec.Version, now);
            revision = await RegistryService.UpsertAsync(tx, record, now, cancellationToken) ?? revision;
        }

        // The parent's budgets (and runtime) bound the child's.
        var parentSession = effectiveParent is null ? null : mesh.Leases.OverlayOrNull(await tx.GetOpenSessionAsync(cluster, effectiveParent, cancellationToken));
        var plan = BudgetPlan.For(askedBudget, parentSession, await BudgetHoldersAsync(tx, parentSession, cancellationToken), now, mesh.Options);
        var sessionId = Ids.NewSessionId(now);
        var session = new SessionRecord(sessionId, cluster, agentId, ttl, now, now, now.AddSeconds(ttl), null, false, plan.Budget?.Runtime ?? maxRuntime)
        {
            StallAfter = stallAfter,
            OnStall = onStall,
            Budget = plan.Budget,
            ChargeTo = plan.Budget is not null ? [sessionId, .. plan.ChargeTo] : plan.ChargeTo.Count > 0 ? plan.ChargeTo : null,
        };
        await tx.InsertSessionAsync(session, cancellationToken);
        mesh.Leases.OpenOnCommit(tx, session);
        revision = await AppendEventAsync(tx, "session.joined", session, agent, now, cancellationToken);
        // The answer is built from the write's own reads: no reads on other connections after the commit.
        var specializationNames = known
            ? (await tx.GetSpecializationsAsync(cluster, agentId, cancellationToken)).Select(s => s.Name)
            : specializations.Select(s => s.Name!).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        var view = MeshViews.Session(session, agent, specializationNames, now) with
        {
            SupersededSessionId = supersededId,
            BudgetClipped = plan.Clipped.Count > 0 ? plan.Clipped.ToList() : null,
            TerminatingUntil = known ? (await tx.GetPendingKillAsync(cluster, agentId, cancellationToken))?.DeadlineAt : null,
        };
        await mesh.CommitAsync(tx, revision, cancellationToken, SignalKeys.Agent(cluster, agentId));
        MeshLog.Joined(mesh.Logger, cluster, agentId, session.SessionId, ttl);
        if (supersededId is not null)
        {
            MeshLog.Superseded(mesh.Logger, cluster, agentId, supersededId);
        }
        return view;
    }

    /// <summary>
    /// Renews a session's lease in memory (no store write: the lease table checkpoints it); 410 when it has ended, so
    /// the agent stops or rejoins.
    /// </summary>
    public async ValueTask<HeartbeatResponse> HeartbeatAsync(MeshCaller caller, string sessionId, HeartbeatRequest request, CancellationToken cancellationToken)
    {
        var load = Validate.Load(request.Load);
        bool? idle = request.Status switch
        {
            null => null,
            "active" => false,
            "idle" => true,
            _ => throw MeshException.Invalid("status", "'status' must be 'active' or 'idle'."),
        };
        var progress = Validate.Progress(request.Progress);
        var now = mesh.Now();
        // The fleet's hot path, in memory and allocating nothing.
        if (progress is null && TryRenewInPlace(caller, sessionId, now, load, idle, out var renewed))
        {
            return MeshViews.Lease(renewed, now);
        }
        var session = await RenewAsync(caller, sessionId, now, load, idle, cancellationToken, progress) ?? throw MeshException.SessionNotFound(sessionId);
        return session.IsOpen ? MeshViews.Lease(session, now) : throw Ended(session, now);
    }

    /// <summary>
    /// The agent reports its progress (<c>POST /sessions/{id}/progress</c>): what a heartbeat's <c>progress</c> carries,
    /// for an agent that keeps its lease through its command stream. Renews the lease too; 410 when the session ended.
    /// </summary>
    public ValueTask<HeartbeatResponse> ReportProgressAsync(MeshCaller caller, string sessionId, AgentProgress progress, CancellationToken cancellationToken) =>
        HeartbeatAsync(caller, sessionId, new HeartbeatRequest { Progress = progress }, cancellationToken);

    /// <summary>The agent says goodbye. Leaving an ended session changes nothing and returns it as it ended.</summary>
    public Task<SessionView> LeaveAsync(MeshCaller caller, string sessionId, CancellationToken cancellationToken) =>
        LeaveAsync(caller, sessionId, null, cancellationToken);

    /// <summary>
    /// The agent says goodbye, with the exit code of its process when it has one (recorded on the session, shown in
    /// its view and its agent's). Leaving an ended session changes nothing and returns it as it ended.
    /// </summary>
    public async Task<SessionView> LeaveAsync(MeshCaller caller, string sessionId, int? exitCode, CancellationToken cancellationToken)
    {
        var existing = await GetVisibleAsync(caller, sessionId, cancellationToken);
        MeshAudit.InCluster(existing.Cluster);
        caller.RequireActingFor(existing.AgentId);
        var now = mesh.Now();
        await using var tx = await mesh.Store.BeginWriteAsync(cancellationToken);
        var session = mesh.Leases.OverlayOrNull(await tx.GetSessionAsync(sessionId, cancellationToken)) ?? throw MeshException.SessionNotFound(sessionId);
        if (session.IsOpen)
        {
            var expired = session.StatusAt(now) == SessionStatus.Expired;
            var reason = expired ? "ttl elapsed" : exitCode is { } code ? $"exited with code {code}" : "left";
            (session, var revision) = await EndAsync(tx, session with { ExitCode = exitCode }, expired ? SessionStatus.Expired : SessionStatus.Left, reason, now, cancellationToken);
            await mesh.CommitAsync(tx, revision, cancellationToken, SignalKeys.Agent(session.Cluster, session.AgentId));
        }
        return await ToViewAsync(session, now, cancellationToken);
    }

    public async Task<SessionView> GetAsync(MeshCaller caller, string sessionId, CancellationToken cancellationToken)
    {
        caller.Require(MeshScopes.Read);
        var session = await GetVisibleAsync(caller, sessionId, cancellationToken);
        return await ToViewAsync(session, mesh.Now(), cancellationToken);
    }

    /// <summary>Sessions by status filter and selectors: <c>GET /alive</c>.</summary>
    public async Task<Page<SessionView>> ListAsync(MeshCaller caller, AliveQuery request, CancellationToken cancellationToken)
    {
        caller.Require(MeshScopes.Read);
        var cluster = caller.ResolveCluster(request.Cluster);
        var filter = StatusFilters.Parse(request.Filter ?? "alive")
            ?? throw MeshException.Invalid("filter", $"'filter' must be one of: {string.Join(", ", StatusFilters.Words)}.");
        var limit = Validate.Limit(request.Limit);
        // The store filters by status, i.e. by lease fields: the renewals acknowledged so far must be in it.
        await mesh.Leases.FlushAsync(cancellationToken);
        var now = mesh.Now();
        var query = new SessionQuery(
            cluster, filter, now, limit + 1,
            request.Specialization is null ? null : Validate.Specialization(request.Specialization),
            request.Labels?.Select(l => Validate.LabelSelector(l)).ToList(),
            request.ParentId is null ? null : Validate.AgentId(request.ParentId, "parent_id"),
            request.AgentId is null ? null : Validate.AgentId(request.AgentId),
            Cursor.Decode(request.Cursor));
        var (page, next) = Cursor.Trim(await mesh.Store.ListSessionsAsync(query, cancellationToken), limit, s => s.SessionId);
        var views = await ToViewsAsync(cluster, page, now, cancellationToken);
        return PageBudget.Cut(views, next, kept => Cursor.Encode(views[kept - 1].SessionId), MeshJsonContext.Default.SessionView, mesh.Options.MaxPageBytes);
    }

    /// <summary>
    /// Ends an open session with a terminal status, and appends its event: the one way a session ends, whether it
    /// is superseded, leaves, expires or is killed; the locks it held are released with it. The stored record gets the lease as memory has it, and the lease
    /// leaves the table when <paramref name="tx"/> commits (through <see cref="MeshRuntime.CommitAsync"/>).
    /// Returns the ended record and the event's revision.
    /// </summary>
    internal async Task<(SessionRecord Session, long Revision)> EndAsync(IMeshWriteTransaction tx, SessionRecord session, SessionStatus status, string reason, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var agent = await tx.GetAgentAsync(session.Cluster, session.AgentId, cancellationToken);
        var ended = mesh.Leases.Overlay(session) with { EndStatus = status, EndedAt = now, EndReason = reason };
        await tx.UpdateSessionAsync(ended, cancellationToken);
        mesh.Leases.EndOnCommit(tx, session.SessionId);
        var revision = await AppendEventAsync(tx, "session." + status.ToWire(), ended, agent, now, cancellationToken);
        // Its locks go with it, in the same write (Consul's rule): no moment where an ended session still holds one.
        revision = await LockService.ReleaseHeldByAsync(tx, ended, now, cancellationToken) ?? revision;
        switch (status)
        {
            case SessionStatus.Expired:
                MeshLog.Expired(mesh.Logger, session.Cluster, session.AgentId, session.SessionId);
                break;
            case SessionStatus.Killed:
                MeshLog.Killed(mesh.Logger, session.Cluster, session.AgentId, session.SessionId, reason);
                break;
        }
        return (ended, revision);
    }

    /// <summary>
    /// Marks a lapsed lease stale in memory and appends its event (once per lapse); false, with nothing appended,
    /// when a renewal came first. The flag reaches the store with the next checkpoint.
    /// </summary>
    internal async Task<long?> MarkStaleAsync(IMeshWriteTransaction tx, Lease lease, SessionRecord seen, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (!mesh.Leases.TryMarkStale(lease, seen))
        {
            return null;
        }
        var agent = await tx.GetAgentAsync(seen.Cluster, seen.AgentId, cancellationToken);
        return await AppendEventAsync(tx, "session.stale", seen with { StaleNotified = true }, agent, now, cancellationToken);
    }

    /// <summary>
    /// Marks a lease whose stall state changed, in memory, and appends its event: <c>session.stalled</c> when it stalled,
    /// <c>session.progressed</c> when it moves again. Null, with nothing appended, when a renewal came first.
    /// </summary>
    internal async Task<long?> MarkStallAsync(IMeshWriteTransaction tx, Lease lease, SessionRecord seen, bool stalled, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (!mesh.Leases.TryMarkStall(lease, seen, stalled))
        {
            return null;
        }
        var agent = await tx.GetAgentAsync(seen.Cluster, seen.AgentId, cancellationToken);
        MeshLog.StallChanged(mesh.Logger, seen.Cluster, seen.AgentId, seen.SessionId, stalled);
        return await AppendEventAsync(tx, stalled ? "session.stalled" : "session.progressed", seen with { StallNotified = stalled }, agent, now, cancellationToken);
    }

    /// <summary>Renews a lease without a heartbeat body (a listening stream); returns the session as it stands, ended when it has.</summary>
    internal ValueTask<SessionRecord?> KeepAliveAsync(string sessionId, CancellationToken cancellationToken)
    {
        var now = mesh.Now();
        // In place when it can be, as a heartbeat is: the lease keeps no new record, so a fleet of streams renewing
        // every few seconds leaves nothing behind for the collector to promote. The record returned is the caller's.
        return TryRenewInPlace(null, sessionId, now, null, null, out var renewed)
            ? ValueTask.FromResult<SessionRecord?>(renewed.ToRecord())
            : RenewAsync(null, sessionId, now, null, null, cancellationToken);
    }

    /// <summary>
    /// A plain renewal of a lease this server holds, written in place (no record made, nothing stored), checking
    /// <paramref name="caller"/> (when given) first; false when it cannot be done so, and <see cref="RenewAsync"/> must.
    /// </summary>
    private bool TryRenewInPlace(MeshCaller? caller, string sessionId, DateTimeOffset now, double? load, bool? idle, out RenewedLease renewed)
    {
        renewed = default;
        if (mesh.Leases.Find(sessionId) is not { } lease)
        {
            return false;
        }
        CheckCaller(caller, lease.Base, sessionId);
        return mesh.Leases.TryRenewInPlace(lease, now, load, idle, out renewed);
    }

    /// <summary>
    /// Renews a lease in memory, checking first that <paramref name="caller"/> (when given) sees the session and acts
    /// for its agent. A lease past its grace is expired through the store. A session the table does not hold is read
    /// from the store: ended, it is returned as it ended; open (a server that did not load it), the table adopts it.
    /// Null when the session is unknown.
    /// </summary>
    private async ValueTask<SessionRecord?> RenewAsync(MeshCaller? caller, string sessionId, DateTimeOffset now, double? load, bool? idle, CancellationToken cancellationToken, AgentProgress? progress = null)
    {
        var lease = mesh.Leases.Find(sessionId);
        if (lease is null)
        {
            if (await mesh.Store.GetSessionAsync(sessionId, cancellationToken) is not { } stored)
            {
                return null;
            }
            CheckCaller(caller, stored, sessionId);
            if (!stored.IsOpen)
            {
                return stored;
            }
            lease = mesh.Leases.Adopt(stored);
        }
        CheckCaller(caller, lease.Base, sessionId);
        var renewed = mesh.Leases.TryRenew(lease, now, load, idle, progress, out var progressBefore);
        if (renewed is null && mesh.Replicated && await mesh.Store.GetSessionAsync(sessionId, cancellationToken) is { IsOpen: true } elsewhere)
        {
            // Heartbeats may go to any replica: the store may hold a renewal another one took since this copy was made.
            mesh.Leases.Refresh(lease, elsewhere);
            renewed = mesh.Leases.TryRenew(lease, now, load, idle, progress, out progressBefore);
        }
        if (renewed is null)
        {
            return await ExpireAsync(sessionId, cancellationToken);
        }
        if (renewed.ChargeTo is { Count: > 0 } && renewed.Progress is { } reported && reported.AdvancedFrom(progressBefore))
        {
            // One server charges in memory (no store write on the report's path); replicas each hold a copy, so they charge in the store.
            await (mesh.Replicated
                ? ChargeInStoreAsync(renewed, reported, now)
                : ChargeAsync(renewed, reported.Since(progressBefore), now, cancellationToken));
        }
        return renewed;
    }

    /// <summary>
    /// With replicas: charges a report to every budget it counts against (its own, then its ancestors'), in the store, in
    /// one write. Its growth is counted from what the store has charged of this session so far, whichever replicas took the
    /// earlier reports; the budgets' totals are read locked and the alerts decided from them in the same write, with the
    /// event and the act, so exactly one replica raises each alert. This replica's leases then show the new totals.
    /// </summary>
    private async Task ChargeInStoreAsync(SessionRecord reporter, AgentProgress reported, DateTimeOffset now)
    {
        // Not cancellable: the lease has taken the report, so its charge must not be dropped with the request. Should the
        // write fail, the growth is not lost: the next report that grows charges it, counted from what the store has.
        var cancellationToken = CancellationToken.None;
        await using var tx = await mesh.Store.BeginWriteAsync(cancellationToken);
        var stored = (await tx.GetSessionsForUpdateAsync([reporter.SessionId, .. reporter.ChargeTo!], cancellationToken))
            .ToDictionary(s => s.SessionId, StringComparer.Ordinal);
        if (stored.GetValueOrDefault(reporter.SessionId) is not { IsOpen: true } self)
        {
            return;
        }
        var charged = reported.Highest(self.Charged);
        if (!charged.AdvancedFrom(self.Charged))
        {
            // Another replica charged this much already (it took a later report of this session).
            return;
        }
        var delta = charged.Since(self.Charged);
        var written = new Dictionary<string, SessionRecord>(StringComparer.Ordinal) { [self.SessionId] = self with { Charged = charged } };
        var alerts = new List<(SessionRecord Holder, string Alert)>();
        foreach (var holderId in reporter.ChargeTo!.Distinct(StringComparer.Ordinal))
        {
            if ((written.GetValueOrDefault(holderId) ?? stored.GetValueOrDefault(holderId)) is { IsOpen: true, Budget: not null } holder)
            {
                var (next, alert) = BudgetCharge.Apply(holder, delta, mesh.Options.BudgetWarnAt);
                written[holderId] = next;
                if (alert is not null)
                {
                    alerts.Add((next, alert));
                }
            }
        }
        await tx.UpdateBudgetChargesAsync(written.Values.ToList(), cancellationToken);
        var (revision, notify) = await AlertAsync(tx, alerts, now, cancellationToken);
        await mesh.CommitAsync(tx, revision, cancellationToken, notify);
        foreach (var (sessionId, session) in written)
        {
            if (mesh.Leases.Find(sessionId) is { } lease)
            {
                mesh.Leases.TakeBudget(lease, session);
            }
        }
    }

    /// <summary>
    /// Counts a report's growth against every budget it charges (its own, then its ancestors'), in memory; a budget it
    /// takes past the soft limit or spends is acted on at once: an event and a message, or a graceful kill of its sub-tree.
    /// </summary>
    private async Task ChargeAsync(SessionRecord reporter, AgentProgress delta, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var alerts = new List<(SessionRecord Holder, string Alert)>();
        foreach (var holderId in reporter.ChargeTo!)
        {
            if (mesh.Leases.Find(holderId) is { } lease && mesh.Leases.Charge(lease, delta, mesh.Options.BudgetWarnAt, out var charged) is { } alert)
            {
                alerts.Add((charged, alert));
            }
        }
        if (alerts.Count == 0)
        {
            return;
        }
        // The report already counted: a failure to record the alert must not fail the agent's heartbeat.
        await using var tx = await mesh.Store.BeginWriteAsync(CancellationToken.None);
        var (revision, notify) = await AlertAsync(tx, alerts, now, cancellationToken);
        await mesh.CommitAsync(tx, revision, cancellationToken, notify);
    }

    /// <summary>Writes each budget alert's event and the mesh's act on it (a message, or a kill); returns the last revision and whom to wake.</summary>
    private async Task<(long Revision, List<string> Notify)> AlertAsync(IMeshWriteTransaction tx, List<(SessionRecord Holder, string Alert)> alerts, DateTimeOffset now, CancellationToken cancellationToken)
    {
        long revision = 0;
        var notify = new List<string>();
        foreach (var (holder, alert) in alerts)
        {
            var agent = await tx.GetAgentAsync(holder.Cluster, holder.AgentId, cancellationToken);
            revision = await AppendEventAsync(tx, alert == "warned" ? "session.budget_warning" : "session.budget_exceeded", holder, agent, now, cancellationToken);
            revision = await CommandService.ActOnBudgetAsync(tx, mesh.Options, holder, alert, now, notify, cancellationToken) ?? revision;
            MeshLog.BudgetAlert(mesh.Logger, holder.Cluster, holder.AgentId, holder.SessionId, alert);
        }
        return (revision, notify);
    }

    /// <summary>
    /// The open sessions whose budgets a join under <paramref name="parent"/> fits in, by id: from the leases in memory on
    /// one server; with replicas from the store, where charges add up, read locked so no charge lands between plan and join.
    /// </summary>
    private async Task<IReadOnlyDictionary<string, SessionRecord>> BudgetHoldersAsync(IMeshWriteTransaction tx, SessionRecord? parent, CancellationToken cancellationToken)
    {
        if (parent?.ChargeTo is not { Count: > 0 } chargeTo)
        {
            return s_noHolders;
        }
        var holders = mesh.Replicated
            ? mesh.Leases.Overlay(await tx.GetSessionsForUpdateAsync(chargeTo, cancellationToken)).Where(s => s.IsOpen)
            : chargeTo.Select(id => mesh.Leases.Find(id)?.Record).OfType<SessionRecord>();
        return holders.DistinctBy(s => s.SessionId).ToDictionary(s => s.SessionId, StringComparer.Ordinal);
    }

    private static void CheckCaller(MeshCaller? caller, SessionRecord session, string sessionId)
    {
        if (caller is not null && !caller.CanSee(session.Cluster))
        {
            throw MeshException.SessionNotFound(sessionId);
        }
        caller?.RequireActingFor(session.AgentId);
    }

    /// <summary>Ends a session found past its grace outside the sweeper (a heartbeat came too late).</summary>
    private async Task<SessionRecord?> ExpireAsync(string sessionId, CancellationToken cancellationToken)
    {
        var now = mesh.Now();
        await using var tx = await mesh.Store.BeginWriteAsync(cancellationToken);
        var session = mesh.Leases.OverlayOrNull(await tx.GetSessionAsync(sessionId, cancellationToken));
        if (session is { IsOpen: false })
        {
            mesh.Leases.Forget(sessionId);
        }
        if (session is null || !session.IsOpen || session.StatusAt(now) != SessionStatus.Expired)
        {
            return session;
        }
        var (ended, revision) = await EndAsync(tx, session, SessionStatus.Expired, "ttl elapsed", now, cancellationToken);
        await mesh.CommitAsync(tx, revision, cancellationToken, SignalKeys.Agent(ended.Cluster, ended.AgentId));
        return ended;
    }

    private async Task<SessionRecord> GetVisibleAsync(MeshCaller caller, string sessionId, CancellationToken cancellationToken)
    {
        var session = await mesh.Store.GetSessionAsync(sessionId, cancellationToken);
        return session is not null && caller.CanSee(session.Cluster) ? mesh.Leases.Overlay(session) : throw MeshException.SessionNotFound(sessionId);
    }

    private static MeshException Ended(SessionRecord session, DateTimeOffset now) =>
        MeshException.Gone("session_ended", $"Session '{session.SessionId}' has ended ({session.StatusAt(now).ToWire()}); stop, or join again for a new session.");

    /// <summary>A join under <paramref name="parentId"/>: the chain must hold, the parent must not be killed, and it must have room for one more live child.</summary>
    private async Task CheckSpawnLimitsAsync(IMeshWriteTransaction tx, string cluster, string agentId, string parentId, AgentRecord? current, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await AgentTree.CheckParentChainAsync(tx, mesh.Options, cluster, agentId, parentId, cancellationToken);
        await AgentTree.CheckParentNotKilledAsync(tx, mesh.Leases, cluster, parentId, now, cancellationToken);
        var children = await tx.CountLiveChildrenAsync(cluster, parentId, now, cancellationToken);
        // A rejoin of a child that is already counted under this parent does not add one.
        var alreadyCounted = current?.ParentId == parentId
            && mesh.Leases.OverlayOrNull(await tx.GetOpenSessionAsync(cluster, agentId, cancellationToken)) is { } open
            && open.StatusAt(now) != SessionStatus.Expired;
        if (children - (alreadyCounted ? 1 : 0) >= mesh.Options.MaxChildren)
        {
            throw MeshException.Conflict("spawn_limit_exceeded", $"Agent '{parentId}' already has {children} live children, the max_children limit ({mesh.Options.MaxChildren}).");
        }
    }

    private static Task<long> AppendEventAsync(IMeshWriteTransaction tx, string type, SessionRecord session, AgentRecord? agent, DateTimeOffset now, CancellationToken cancellationToken) =>
        MeshRuntime.AppendEventAsync(tx, type, session.Cluster, now, session.AgentId, session.SessionId, MeshViews.Session(session, agent, [], now), MeshJsonContext.Default.SessionView, cancellationToken);

    /// <summary>Session views for a page of sessions, with agents and specializations loaded in two queries.</summary>
    private async Task<List<SessionView>> ToViewsAsync(string cluster, IReadOnlyList<SessionRecord> sessions, DateTimeOffset now, CancellationToken cancellationToken)
    {
        sessions = mesh.Leases.Overlay(sessions);
        var agentIds = sessions.Select(s => s.AgentId).Distinct().ToList();
        var agents = (await mesh.Store.GetAgentsAsync(cluster, agentIds, cancellationToken)).ToDictionary(a => a.AgentId);
        var specs = (await mesh.Store.GetSpecializationsAsync(cluster, agentIds, cancellationToken)).ToLookup(s => s.AgentId, s => s.Name);
        var killing = await AgentTree.KillDeadlinesAsync(mesh.Store, cluster, agentIds, cancellationToken);
        return sessions.Select(s => MeshViews.Session(s, agents.GetValueOrDefault(s.AgentId), specs[s.AgentId], now) with
        {
            TerminatingUntil = s.IsOpen ? AgentService.TerminatingUntil(killing, s.AgentId, s.StatusAt(now)) : null,
        }).ToList();
    }

    private async Task<SessionView> ToViewAsync(SessionRecord session, DateTimeOffset now, CancellationToken cancellationToken) =>
        (await ToViewsAsync(session.Cluster, [session], now, cancellationToken))[0];
}
