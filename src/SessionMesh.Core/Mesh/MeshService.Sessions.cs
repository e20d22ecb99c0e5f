using SessionMesh.Contracts;
using SessionMesh.Model;
using SessionMesh.Security;
using SessionMesh.Store;

namespace SessionMesh.Mesh;

public sealed partial class MeshService
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
        var ttl = Validate.Ttl(request.Ttl, options.DefaultSessionTtl);
        var maxRuntime = request.MaxRuntime is null ? (int?)null : Validate.Ttl(request.MaxRuntime, 0, "max_runtime", MeshLimits.MaxRuntime);
        var labels = request.Labels is null ? null : Validate.Labels(request.Labels);
        var specializations = ValidateSpecializations(request.Specializations);
        var cluster = caller.ResolveCluster(request.Cluster);
        caller.RequireActingFor(agentId);

        var now = Now();
        await using var tx = await store.BeginWriteAsync(cancellationToken);
        var agent = await tx.GetAgentAsync(cluster, agentId, cancellationToken);
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
            var ended = previous with { EndStatus = SessionStatus.Superseded, EndedAt = now, EndReason = "superseded by a new join" };
            await tx.UpdateSessionAsync(ended, cancellationToken);
            revision = await AppendSessionEventAsync(tx, "session.superseded", ended, agent, now, cancellationToken);
            supersededId = previous.SessionId;
        }

        foreach (var spec in specializations)
        {
            var record = new SpecializationRecord(cluster, agentId, spec.Name!, spec.Description, spec.Tags ?? [], spec.Version, now);
            revision = await UpsertSpecializationAsync(tx, record, now, cancellationToken) ?? revision;
        }

        var session = new SessionRecord(Ids.NewSessionId(now), cluster, agentId, ttl, now, now, now.AddSeconds(ttl), null, false, maxRuntime);
        await tx.InsertSessionAsync(session, cancellationToken);
        revision = await AppendSessionEventAsync(tx, "session.joined", session, agent, now, cancellationToken);
        await CommitAsync(tx, revision, cancellationToken, MeshSignals.AgentKey(cluster, agentId));
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
        var existing = await GetVisibleSessionAsync(caller, sessionId, cancellationToken);
        caller.RequireActingFor(existing.AgentId);

        var now = Now();
        var (session, renewed) = await store.RenewSessionAsync(sessionId, now, load, idle, cancellationToken);
        if (session is null)
        {
            throw MeshException.SessionNotFound(sessionId);
        }
        if (!renewed)
        {
            var ended = session.IsOpen ? await ExpireAsync(sessionId, cancellationToken) ?? session : session;
            throw SessionEnded(ended, now);
        }
        return new HeartbeatResponse
        {
            SessionId = session.SessionId,
            Status = session.StatusAt(now),
            Ttl = session.Ttl,
            Load = session.Load,
            LastSeen = session.LastSeen,
            ExpiresAt = session.ExpiresAt,
        };
    }

    /// <summary>The agent says goodbye. Leaving an ended session changes nothing and returns it as it ended.</summary>
    public async Task<SessionView> LeaveAsync(MeshCaller caller, string sessionId, CancellationToken cancellationToken)
    {
        var existing = await GetVisibleSessionAsync(caller, sessionId, cancellationToken);
        caller.RequireActingFor(existing.AgentId);
        var now = Now();
        await using var tx = await store.BeginWriteAsync(cancellationToken);
        var session = await tx.GetSessionAsync(sessionId, cancellationToken) ?? throw MeshException.SessionNotFound(sessionId);
        if (session.IsOpen)
        {
            var agent = await tx.GetAgentAsync(session.Cluster, session.AgentId, cancellationToken);
            var status = session.StatusAt(now) == SessionStatus.Expired ? SessionStatus.Expired : SessionStatus.Left;
            session = session with { EndStatus = status, EndedAt = now, EndReason = status == SessionStatus.Left ? "left" : "ttl elapsed" };
            await tx.UpdateSessionAsync(session, cancellationToken);
            var revision = await AppendSessionEventAsync(tx, "session." + status.ToWire(), session, agent, now, cancellationToken);
            await CommitAsync(tx, revision, cancellationToken, MeshSignals.AgentKey(session.Cluster, session.AgentId));
        }
        return await ToViewAsync(session, now, cancellationToken);
    }

    public async Task<SessionView> GetSessionAsync(MeshCaller caller, string sessionId, CancellationToken cancellationToken)
    {
        caller.Require(MeshScopes.Read);
        var session = await GetVisibleSessionAsync(caller, sessionId, cancellationToken);
        return await ToViewAsync(session, Now(), cancellationToken);
    }

    /// <summary>Sessions by status filter and selectors: <c>GET /alive</c>.</summary>
    public async Task<Page<SessionView>> ListSessionsAsync(MeshCaller caller, SessionListRequest request, CancellationToken cancellationToken)
    {
        caller.Require(MeshScopes.Read);
        var cluster = caller.ResolveCluster(request.Cluster);
        var filter = StatusFilters.Parse(request.Filter ?? "alive")
            ?? throw MeshException.Invalid("filter", $"'filter' must be one of: {string.Join(", ", StatusFilters.Words)}.");
        var limit = Validate.Limit(request.Limit);
        var now = Now();
        var query = new SessionQuery(
            cluster, filter, now, limit + 1,
            request.Specialization is null ? null : Validate.Specialization(request.Specialization),
            request.Labels?.Select(l => Validate.LabelSelector(l)).ToList(),
            request.ParentId is null ? null : Validate.AgentId(request.ParentId, "parent_id"),
            request.AgentId is null ? null : Validate.AgentId(request.AgentId),
            Cursor.Decode(request.Cursor));
        var (page, next) = Cursor.Trim(await store.ListSessionsAsync(query, cancellationToken), limit, s => s.SessionId);
        return new Page<SessionView> { Items = await ToViewsAsync(cluster, page, now, cancellationToken), NextCursor = next };
    }

    /// <summary>
    /// Ends every session past its grace as <c>expired</c> and marks newly stale ones, with their events.
    /// Returns how many sessions changed.
    /// </summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        const int Batch = 500;
        var changed = 0;
        while (true)
        {
            var now = Now();
            await using var tx = await store.BeginWriteAsync(cancellationToken);
            var lapsed = await tx.ListLapsedSessionsAsync(now, Batch, cancellationToken);
            long revision = 0;
            var changedInBatch = 0;
            var ended = new List<string>();
            foreach (var session in lapsed)
            {
                var status = session.StatusAt(now);
                if (status == SessionStatus.Stale && session.StaleNotified)
                {
                    continue;
                }
                var agent = await tx.GetAgentAsync(session.Cluster, session.AgentId, cancellationToken);
                var updated = status == SessionStatus.Expired
                    ? session with { EndStatus = SessionStatus.Expired, EndedAt = now, EndReason = "ttl elapsed" }
                    : session with { StaleNotified = true };
                await tx.UpdateSessionAsync(updated, cancellationToken);
                revision = await AppendSessionEventAsync(tx, "session." + status.ToWire(), updated, agent, now, cancellationToken);
                changedInBatch++;
                if (!updated.IsOpen)
                {
                    ended.Add(MeshSignals.AgentKey(updated.Cluster, updated.AgentId));
                }
            }
            await CommitAsync(tx, revision, cancellationToken, ended);
            changed += changedInBatch;
            if (lapsed.Count < Batch || changedInBatch == 0)
            {
                return changed;
            }
        }
    }

    /// <summary>
    /// At start-up: extend every open lease by its TTL (Consul's rule), so that downtime of the server
    /// never mass-expires a fleet. Returns how many leases were extended.
    /// </summary>
    public async Task<int> ExtendOpenLeasesAsync(CancellationToken cancellationToken)
    {
        await using var tx = await store.BeginWriteAsync(cancellationToken);
        var count = await tx.ExtendOpenLeasesAsync(Now(), cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return count;
    }

    private async Task<SessionRecord?> ExpireAsync(string sessionId, CancellationToken cancellationToken)
    {
        var now = Now();
        await using var tx = await store.BeginWriteAsync(cancellationToken);
        var session = await tx.GetSessionAsync(sessionId, cancellationToken);
        if (session is null || !session.IsOpen || session.StatusAt(now) != SessionStatus.Expired)
        {
            return session;
        }
        var agent = await tx.GetAgentAsync(session.Cluster, session.AgentId, cancellationToken);
        var ended = session with { EndStatus = SessionStatus.Expired, EndedAt = now, EndReason = "ttl elapsed" };
        await tx.UpdateSessionAsync(ended, cancellationToken);
        var revision = await AppendSessionEventAsync(tx, "session.expired", ended, agent, now, cancellationToken);
        await CommitAsync(tx, revision, cancellationToken, MeshSignals.AgentKey(ended.Cluster, ended.AgentId));
        return ended;
    }

    private async Task<SessionRecord> GetVisibleSessionAsync(MeshCaller caller, string sessionId, CancellationToken cancellationToken)
    {
        var session = await store.GetSessionAsync(sessionId, cancellationToken);
        return session is not null && caller.CanSee(session.Cluster) ? session : throw MeshException.SessionNotFound(sessionId);
    }

    private static MeshException SessionEnded(SessionRecord session, DateTimeOffset now)
    {
        var status = session.StatusAt(now).ToWire();
        return MeshException.Gone("session_ended", $"Session '{session.SessionId}' has ended ({status}); stop, or join again for a new session.");
    }

    /// <summary>A join under <paramref name="parentId"/>: the chain must hold and the parent have room for one more live child.</summary>
    private async Task CheckSpawnLimitsAsync(IMeshWriteTransaction tx, string cluster, string agentId, string parentId, AgentRecord? current, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await CheckParentChainAsync(tx, cluster, agentId, parentId, cancellationToken);
        var children = await tx.CountLiveChildrenAsync(cluster, parentId, now, cancellationToken);
        // A rejoin of a child that is already counted under this parent does not add one.
        var alreadyCounted = current?.ParentId == parentId
            && await tx.GetOpenSessionAsync(cluster, agentId, cancellationToken) is { } open
            && open.StatusAt(now) != SessionStatus.Expired;
        if (children - (alreadyCounted ? 1 : 0) >= options.MaxChildren)
        {
            throw MeshException.Conflict("spawn_limit_exceeded", $"Agent '{parentId}' already has {children} live children, the max_children limit ({options.MaxChildren}).");
        }
    }

    /// <summary>The parent must exist, the chain above it must not loop back to the agent, and must not be deeper than max_depth.</summary>
    private async Task CheckParentChainAsync(IMeshWriteTransaction tx, string cluster, string agentId, string parentId, CancellationToken cancellationToken)
    {
        var depth = 0;
        for (var ancestorId = parentId; ancestorId is not null;)
        {
            if (ancestorId == agentId)
            {
                throw MeshException.Conflict("parent_cycle", $"Agent '{agentId}' is an ancestor of '{parentId}': the parent chain would loop.");
            }
            var ancestor = await tx.GetAgentAsync(cluster, ancestorId, cancellationToken);
            if (ancestor is null)
            {
                throw depth == 0
                    ? MeshException.NotFound("parent_not_found", $"No parent agent '{parentId}' in this cluster: it must join or be declared first.")
                    : MeshException.Conflict("parent_cycle", $"The parent chain of '{parentId}' is broken at '{ancestorId}'.");
            }
            depth++;
            if (depth > options.MaxDepth)
            {
                throw MeshException.Conflict("spawn_limit_exceeded", $"The parent chain of '{agentId}' would be deeper than max_depth {options.MaxDepth}.");
            }
            ancestorId = ancestor.ParentId;
        }
    }

    private Task<long> AppendSessionEventAsync(IMeshWriteTransaction tx, string type, SessionRecord session, AgentRecord? agent, DateTimeOffset now, CancellationToken cancellationToken) =>
        AppendAsync(tx, type, session.Cluster, now, session.AgentId, session.SessionId, ToView(session, agent, [], now), MeshJsonContext.Default.SessionView, cancellationToken);

    private static List<SpecializationInput> ValidateSpecializations(List<SpecializationInput>? specializations)
    {
        if (specializations is null)
        {
            return [];
        }
        if (specializations.Count > MeshLimits.MaxSpecializationsPerJoin)
        {
            throw MeshException.Invalid("specializations", $"At most {MeshLimits.MaxSpecializationsPerJoin} specializations may be given.");
        }
        return specializations.Select((s, i) => s is null
            ? throw MeshException.Invalid($"specializations[{i}]", "A specialization cannot be null.")
            : s with
            {
                Name = Validate.Specialization(s.Name, $"specializations[{i}].name"),
                Description = Validate.Text(s.Description, $"specializations[{i}].description", MeshLimits.MaxDescriptionLength),
                Tags = Validate.Tags(s.Tags, $"specializations[{i}].tags"),
                Version = Validate.Text(s.Version, $"specializations[{i}].version", MeshLimits.MaxVersionLength),
            }).ToList();
    }
}
