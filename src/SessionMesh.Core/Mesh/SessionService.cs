using SessionMesh.Contracts;
using SessionMesh.Model;
using SessionMesh.Security;
using SessionMesh.Store;

namespace SessionMesh.Mesh;

/// <summary>
/// Sessions: an agent joins (superseding its open session), renews its lease, leaves; operators read and list them.
/// Every way a session ends goes through <see cref="EndAsync"/>.
/// </summary>
public sealed class SessionService(MeshRuntime mesh)
{
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
        var labels = request.Labels is null ? null : Validate.Labels(request.Labels);
        var specializations = RegistryService.ValidateInputs(request.Specializations);
        var cluster = caller.ResolveCluster(request.Cluster);
        caller.RequireActingFor(agentId);

        var now = mesh.Now();
        await using var tx = await mesh.Store.BeginWriteAsync(cancellationToken);
        var agent = await tx.GetAgentAsync(cluster, agentId, cancellationToken);
        AgentTree.CheckReparent(caller, agent, parentId);
        var effectiveParent = parentId ?? agent?.ParentId;
        if (effectiveParent is not null)
        {
            await CheckSpawnLimitsAsync(tx, cluster, agentId, effectiveParent, agent, now, cancellationToken);
        }

        agent = agent is null
            ? new AgentRecord(cluster, agentId, effectiveParent, labels ?? [], now, now)
            : agent with { ParentId = effectiveParent, Labels = labels ?? agent.Labels, UpdatedAt = now };
        await tx.UpsertAgentAsync(agent, cancellationToken);

        long revision = 0;
        string? supersededId = null;
        if (await tx.GetOpenSessionAsync(cluster, agentId, cancellationToken) is { } previous)
        {
            (_, revision) = await EndAsync(tx, previous, SessionStatus.Superseded, "superseded by a new join", now, cancellationToken);
            supersededId = previous.SessionId;
        }

        foreach (var spec in specializations)
        {
            var record = new SpecializationRecord(cluster, agentId, spec.Name!, spec.Description, spec.Tags ?? [], spec.Version, now);
            revision = await RegistryService.UpsertAsync(tx, record, now, cancellationToken) ?? revision;
        }

        var session = new SessionRecord(Ids.NewSessionId(now), cluster, agentId, ttl, now, now, now.AddSeconds(ttl), null, false, maxRuntime);
        await tx.InsertSessionAsync(session, cancellationToken);
        revision = await AppendEventAsync(tx, "session.joined", session, agent, now, cancellationToken);
        await mesh.CommitAsync(tx, revision, cancellationToken, SignalKeys.Agent(cluster, agentId));
        MeshLog.Joined(mesh.Logger, cluster, agentId, session.SessionId, ttl);
        if (supersededId is not null)
        {
            MeshLog.Superseded(mesh.Logger, cluster, agentId, supersededId);
        }
        return (await ToViewAsync(session, now, cancellationToken)) with { SupersededSessionId = supersededId };
    }

    /// <summary>Renews a session's lease; 410 when it has ended, so the agent stops or rejoins.</summary>
    public async Task<HeartbeatResponse> HeartbeatAsync(MeshCaller caller, string sessionId, HeartbeatRequest request, CancellationToken cancellationToken)
    {
        var load = Validate.Load(request.Load);
        bool? idle = request.Status switch
        {
            null => null,
            "active" => false,
            "idle" => true,
            _ => throw MeshException.Invalid("status", "'status' must be 'active' or 'idle'."),
        };
        var existing = await GetVisibleAsync(caller, sessionId, cancellationToken);
        caller.RequireActingFor(existing.AgentId);

        var now = mesh.Now();
        var (session, renewed) = await mesh.Store.RenewSessionAsync(sessionId, now, load, idle, cancellationToken);
        if (session is null)
        {
            throw MeshException.SessionNotFound(sessionId);
        }
        if (!renewed)
        {
            var ended = session.IsOpen ? await ExpireAsync(sessionId, cancellationToken) ?? session : session;
            throw Ended(ended, now);
        }
        return MeshViews.Lease(session, now);
    }

    /// <summary>The agent says goodbye. Leaving an ended session changes nothing and returns it as it ended.</summary>
    public async Task<SessionView> LeaveAsync(MeshCaller caller, string sessionId, CancellationToken cancellationToken)
    {
        var existing = await GetVisibleAsync(caller, sessionId, cancellationToken);
        caller.RequireActingFor(existing.AgentId);
        var now = mesh.Now();
        await using var tx = await mesh.Store.BeginWriteAsync(cancellationToken);
        var session = await tx.GetSessionAsync(sessionId, cancellationToken) ?? throw MeshException.SessionNotFound(sessionId);
        if (session.IsOpen)
        {
            var expired = session.StatusAt(now) == SessionStatus.Expired;
            (session, var revision) = await EndAsync(tx, session, expired ? SessionStatus.Expired : SessionStatus.Left, expired ? "ttl elapsed" : "left", now, cancellationToken);
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
        var now = mesh.Now();
        var query = new SessionQuery(
            cluster, filter, now, limit + 1,
            request.Specialization is null ? null : Validate.Specialization(request.Specialization),
            request.Labels?.Select(l => Validate.LabelSelector(l)).ToList(),
            request.ParentId is null ? null : Validate.AgentId(request.ParentId, "parent_id"),
            request.AgentId is null ? null : Validate.AgentId(request.AgentId),
            Cursor.Decode(request.Cursor));
        var (page, next) = Cursor.Trim(await mesh.Store.ListSessionsAsync(query, cancellationToken), limit, s => s.SessionId);
        return new Page<SessionView> { Items = await ToViewsAsync(cluster, page, now, cancellationToken), NextCursor = next };
    }

    /// <summary>
    /// Ends an open session with a terminal status, and appends its event: the one way a session ends, whether it
    /// is superseded, leaves, expires or is killed. Returns the ended record and the event's revision.
    /// </summary>
    internal async Task<(SessionRecord Session, long Revision)> EndAsync(IMeshWriteTransaction tx, SessionRecord session, SessionStatus status, string reason, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var agent = await tx.GetAgentAsync(session.Cluster, session.AgentId, cancellationToken);
        var ended = session with { EndStatus = status, EndedAt = now, EndReason = reason };
        await tx.UpdateSessionAsync(ended, cancellationToken);
        var revision = await AppendEventAsync(tx, "session." + status.ToWire(), ended, agent, now, cancellationToken);
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

    /// <summary>Marks a lapsed session stale, with its event (once per lapse).</summary>
    internal async Task<long> MarkStaleAsync(IMeshWriteTransaction tx, SessionRecord session, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var agent = await tx.GetAgentAsync(session.Cluster, session.AgentId, cancellationToken);
        var stale = session with { StaleNotified = true };
        await tx.UpdateSessionAsync(stale, cancellationToken);
        return await AppendEventAsync(tx, "session.stale", stale, agent, now, cancellationToken);
    }

    /// <summary>Renews a lease without a heartbeat body (a listening stream); returns the session as it stands, ended when it has.</summary>
    internal async Task<SessionRecord?> KeepAliveAsync(string sessionId, CancellationToken cancellationToken)
    {
        var (session, renewed) = await mesh.Store.RenewSessionAsync(sessionId, mesh.Now(), null, null, cancellationToken);
        return session is not null && !renewed && session.IsOpen ? await ExpireAsync(sessionId, cancellationToken) : session;
    }

    /// <summary>Ends a session found past its grace outside the sweeper (a heartbeat came too late).</summary>
    private async Task<SessionRecord?> ExpireAsync(string sessionId, CancellationToken cancellationToken)
    {
        var now = mesh.Now();
        await using var tx = await mesh.Store.BeginWriteAsync(cancellationToken);
        var session = await tx.GetSessionAsync(sessionId, cancellationToken);
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
        return session is not null && caller.CanSee(session.Cluster) ? session : throw MeshException.SessionNotFound(sessionId);
    }

    private static MeshException Ended(SessionRecord session, DateTimeOffset now) =>
        MeshException.Gone("session_ended", $"Session '{session.SessionId}' has ended ({session.StatusAt(now).ToWire()}); stop, or join again for a new session.");

    /// <summary>A join under <paramref name="parentId"/>: the chain must hold, the parent must not be killed, and it must have room for one more live child.</summary>
    private async Task CheckSpawnLimitsAsync(IMeshWriteTransaction tx, string cluster, string agentId, string parentId, AgentRecord? current, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await AgentTree.CheckParentChainAsync(tx, mesh.Options, cluster, agentId, parentId, cancellationToken);
        await AgentTree.CheckParentNotKilledAsync(tx, cluster, parentId, now, cancellationToken);
        var children = await tx.CountLiveChildrenAsync(cluster, parentId, now, cancellationToken);
        // A rejoin of a child that is already counted under this parent does not add one.
        var alreadyCounted = current?.ParentId == parentId
            && await tx.GetOpenSessionAsync(cluster, agentId, cancellationToken) is { } open
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
        var agentIds = sessions.Select(s => s.AgentId).Distinct().ToList();
        var agents = (await mesh.Store.GetAgentsAsync(cluster, agentIds, cancellationToken)).ToDictionary(a => a.AgentId);
        var specs = (await mesh.Store.GetSpecializationsAsync(cluster, agentIds, cancellationToken)).ToLookup(s => s.AgentId, s => s.Name);
        return sessions.Select(s => MeshViews.Session(s, agents.GetValueOrDefault(s.AgentId), specs[s.AgentId], now)).ToList();
    }

    private async Task<SessionView> ToViewAsync(SessionRecord session, DateTimeOffset now, CancellationToken cancellationToken) =>
        (await ToViewsAsync(session.Cluster, [session], now, cancellationToken))[0];
}
