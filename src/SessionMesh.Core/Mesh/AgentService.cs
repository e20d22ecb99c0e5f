using SessionMesh.Contracts;
using SessionMesh.Model;
using SessionMesh.Security;

namespace SessionMesh.Mesh;

/// <summary>Agents: declared before they join, read with their session and children, as a tree, and as the topology.</summary>
public sealed class AgentService(MeshRuntime mesh)
{
    /// <summary>An agent with its open session, specializations and children.</summary>
    public async Task<AgentView> GetAsync(MeshCaller caller, string agentId, string? cluster, CancellationToken cancellationToken)
    {
        caller.Require(MeshScopes.Read);
        var resolved = caller.ResolveCluster(cluster);
        var agent = await mesh.Store.GetAgentAsync(resolved, agentId, cancellationToken) ?? throw MeshException.AgentNotFound(agentId);
        return (await ToViewsAsync([agent], mesh.Now(), cancellationToken))[0];
    }

    /// <summary>
    /// Declares an agent before it joins, or changes its parent or labels: what a fleet definition needs.
    /// Created is false when the agent existed. Fields left out stay as they are. Moving an agent that has a
    /// parent to another one needs the <c>register</c> scope.
    /// </summary>
    public async Task<(AgentView Agent, bool Created)> DeclareAsync(MeshCaller caller, string agentId, DeclareAgentRequest request, CancellationToken cancellationToken)
    {
        Validate.AgentId(agentId);
        var parentId = request.ParentId is null ? null : Validate.AgentId(request.ParentId, "parent_id");
        if (parentId == agentId)
        {
            throw MeshException.Invalid("parent_id", "An agent cannot be its own parent.");
        }
        var labels = request.Labels is null ? null : Validate.Labels(request.Labels);
        var cluster = caller.ResolveCluster(request.Cluster);
        MeshAudit.InCluster(cluster);
        caller.RequireActingFor(agentId, MeshScopes.Register);

        var now = mesh.Now();
        await using var tx = await mesh.Store.BeginWriteAsync(cancellationToken);
        var existing = await tx.GetAgentAsync(cluster, agentId, cancellationToken);
        AgentTree.CheckReparent(caller, existing, parentId);
        if (parentId is not null && parentId != existing?.ParentId)
        {
            await AgentTree.CheckParentChainAsync(tx, mesh.Options, cluster, agentId, parentId, cancellationToken);
        }
        var agent = existing is null
            ? new AgentRecord(cluster, agentId, parentId, labels ?? [], now, now)
            : existing with { ParentId = parentId ?? existing.ParentId, Labels = labels ?? existing.Labels, UpdatedAt = now };
        var changed = existing is null || agent.ParentId != existing.ParentId || !SameLabels(agent.Labels, existing.Labels);
        long revision = 0;
        if (changed)
        {
            await tx.UpsertAgentAsync(agent, cancellationToken);
            revision = await MeshRuntime.AppendEventAsync(tx, "agent.declared", cluster, now, agentId, null,
                new AgentView { AgentId = agentId, Cluster = cluster, ParentId = agent.ParentId, Labels = new(agent.Labels), CreatedAt = agent.CreatedAt },
                MeshJsonContext.Default.AgentView, cancellationToken);
        }
        MeshAudit.Current?.Created = existing is null;
        await mesh.CommitAsync(tx, revision, cancellationToken);
        return ((await ToViewsAsync([agent], now, cancellationToken))[0], existing is null);
    }

    /// <summary>Agents of a cluster ordered by id, optionally the children of one parent.</summary>
    public async Task<Page<AgentView>> ListAsync(MeshCaller caller, string? cluster, string? parentId, int? limit, string? cursor, CancellationToken cancellationToken)
    {
        caller.Require(MeshScopes.Read);
        var resolved = caller.ResolveCluster(cluster);
        var size = Validate.Limit(limit);
        var parent = parentId is null ? null : Validate.AgentId(parentId, "parent_id");
        var rows = await mesh.Store.ListAgentsAsync(resolved, parent, Cursor.Decode(cursor), size + 1, cancellationToken);
        var (page, next) = Cursor.Trim(rows, size, a => a.AgentId);
        var views = await ToViewsAsync(page, mesh.Now(), cancellationToken);
        return PageBudget.Cut(views, next, kept => Cursor.Encode(views[kept - 1].AgentId), MeshJsonContext.Default.AgentView, mesh.Options.MaxPageBytes);
    }

    /// <summary>The agent and every descendant, as a tree.</summary>
    public async Task<AgentTreeNode> GetTreeAsync(MeshCaller caller, string agentId, string? cluster, CancellationToken cancellationToken)
    {
        caller.Require(MeshScopes.Read);
        var resolved = caller.ResolveCluster(cluster);
        var root = await mesh.Store.GetAgentAsync(resolved, agentId, cancellationToken) ?? throw MeshException.AgentNotFound(agentId);
        var all = await AgentTree.CollectSubtreeAsync(root, ids => mesh.Store.GetChildrenAsync(resolved, ids, cancellationToken));
        var sessions = mesh.Leases.Overlay(await mesh.Store.GetLatestSessionsAsync(resolved, all.Select(a => a.AgentId).ToList(), cancellationToken)).ToDictionary(s => s.AgentId);
        var children = all.Where(a => a.ParentId is not null).ToLookup(a => a.ParentId!);
        var killing = await AgentTree.KillDeadlinesAsync(mesh.Store, resolved, all.Select(a => a.AgentId).ToList(), cancellationToken);
        var now = mesh.Now();

        AgentTreeNode Build(AgentRecord agent)
        {
            var status = sessions.GetValueOrDefault(agent.AgentId)?.StatusAt(now);
            return new AgentTreeNode
            {
                AgentId = agent.AgentId,
                ParentId = agent.ParentId,
                Status = status,
                Alive = status?.IsAlive() ?? false,
                TerminatingUntil = TerminatingUntil(killing, agent.AgentId, status),
                SessionId = sessions.GetValueOrDefault(agent.AgentId) is { IsOpen: true } open ? open.SessionId : null,
                Children = children[agent.AgentId].OrderBy(c => c.AgentId, StringComparer.Ordinal).Select(Build).ToList(),
            };
        }
        return Build(root);
    }

    /// <summary>
    /// An agent's usage (<c>GET /agents/{agent_id}/usage</c>): its own reports, those of its whole sub-tree added up, and
    /// its budget with what is charged and left; with <paramref name="tree"/>, the same for every descendant.
    /// </summary>
    public async Task<UsageView> GetUsageAsync(MeshCaller caller, string agentId, string? cluster, bool tree, CancellationToken cancellationToken)
    {
        caller.Require(MeshScopes.Read);
        var resolved = caller.ResolveCluster(cluster);
        var root = await mesh.Store.GetAgentAsync(resolved, Validate.AgentId(agentId), cancellationToken) ?? throw MeshException.AgentNotFound(agentId);
        var all = await AgentTree.CollectSubtreeAsync(root, ids => mesh.Store.GetChildrenAsync(resolved, ids, cancellationToken));
        var sessions = mesh.Leases.Overlay(await mesh.Store.GetLatestSessionsAsync(resolved, all.Select(a => a.AgentId).ToList(), cancellationToken)).ToDictionary(s => s.AgentId);
        var children = all.Where(a => a.ParentId is not null).ToLookup(a => a.ParentId!);
        var now = mesh.Now();

        UsageView Build(AgentRecord agent, bool withChildren)
        {
            var session = sessions.GetValueOrDefault(agent.AgentId);
            var own = new AgentProgress().Plus(session?.Progress);
            var kids = children[agent.AgentId].OrderBy(c => c.AgentId, StringComparer.Ordinal).Select(c => Build(c, withChildren)).ToList();
            var charged = session?.Budget is null ? null : new AgentProgress().Plus(session.BudgetUsed);
            return new UsageView
            {
                AgentId = agent.AgentId,
                SessionId = session?.SessionId,
                Status = session?.StatusAt(now),
                Own = own,
                RolledUp = kids.Aggregate(own, (sum, child) => sum.Plus(child.RolledUp)),
                Budget = session?.Budget,
                Charged = charged,
                Left = session?.Budget?.Left(charged),
                UsedShare = session?.Budget?.UsedFraction(charged),
                Alert = session?.BudgetAlert,
                Children = withChildren ? kids : null,
            };
        }
        return Build(root, tree);
    }

    /// <summary>Every agent of a cluster with its status, and the parent→child edges between them.</summary>
    public async Task<TopologyView> GetTopologyAsync(MeshCaller caller, string? cluster, int? maxAgents, CancellationToken cancellationToken)
    {
        caller.Require(MeshScopes.Read);
        var resolved = caller.ResolveCluster(cluster);
        var cap = maxAgents ?? mesh.Options.MaxTopologyAgents;
        if (cap < 1 || cap > mesh.Options.MaxTopologyAgents)
        {
            throw MeshException.Invalid("max_agents", $"'max_agents' must be between 1 and {mesh.Options.MaxTopologyAgents}.");
        }
        // One agent past the cap tells a cut topology from one that fits exactly.
        var agents = new List<AgentRecord>();
        for (string? after = null; agents.Count <= cap;)
        {
            var want = Math.Min(MeshLimits.MaxPageSize, cap + 1 - agents.Count);
            var page = await mesh.Store.ListAgentsAsync(resolved, null, after, want, cancellationToken);
            agents.AddRange(page);
            if (page.Count < want)
            {
                break;
            }
            after = page[^1].AgentId;
        }
        var truncated = agents.Count > cap;
        if (truncated)
        {
            agents.RemoveRange(cap, agents.Count - cap);
        }
        var ids = agents.Select(a => a.AgentId).ToList();
        var sessions = mesh.Leases.Overlay(await mesh.Store.GetLatestSessionsAsync(resolved, ids, cancellationToken)).ToDictionary(s => s.AgentId);
        var specs = (await mesh.Store.GetSpecializationsAsync(resolved, ids, cancellationToken)).ToLookup(s => s.AgentId, s => s.Name);
        var known = ids.ToHashSet(StringComparer.Ordinal);
        var killing = await AgentTree.KillDeadlinesAsync(mesh.Store, resolved, ids, cancellationToken);
        var now = mesh.Now();
        SessionStatus? StatusOf(string id) => sessions.GetValueOrDefault(id)?.StatusAt(now);
        bool ParentGone(AgentRecord a) => a.ParentId is { } p && !(StatusOf(p) is { } status && (status.IsAlive() || status == SessionStatus.Stale));

        return new TopologyView
        {
            Cluster = resolved,
            Truncated = truncated ? true : null,
            Nodes = agents.Select(a => new TopologyNode
            {
                AgentId = a.AgentId,
                ParentId = a.ParentId,
                Status = StatusOf(a.AgentId)?.ToWire(),
                Alive = StatusOf(a.AgentId)?.IsAlive() ?? false,
                TerminatingUntil = TerminatingUntil(killing, a.AgentId, StatusOf(a.AgentId)),
                Orphaned = (StatusOf(a.AgentId)?.IsAlive() ?? false) && ParentGone(a),
                Specializations = specs[a.AgentId].ToList(),
            }).ToList(),
            Edges = agents.Where(a => a.ParentId is not null && known.Contains(a.ParentId))
                .Select(a => new TopologyEdge { From = a.ParentId!, To = a.AgentId }).ToList(),
        };
    }

    /// <summary>The kill deadline of an agent whose session is still open, else null.</summary>
    internal static DateTimeOffset? TerminatingUntil(Dictionary<string, DateTimeOffset> killing, string agentId, SessionStatus? status) =>
        status is { } s && !s.IsTerminal() && killing.TryGetValue(agentId, out var deadline) ? deadline : null;

    private static bool SameLabels(IReadOnlyDictionary<string, string> a, IReadOnlyDictionary<string, string> b) =>
        a.Count == b.Count && a.All(l => b.TryGetValue(l.Key, out var v) && v == l.Value);

    private async Task<List<AgentView>> ToViewsAsync(IReadOnlyList<AgentRecord> agents, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (agents.Count == 0)
        {
            return [];
        }
        var cluster = agents[0].Cluster;
        var ids = agents.Select(a => a.AgentId).ToList();
        var latest = mesh.Leases.Overlay(await mesh.Store.GetLatestSessionsAsync(cluster, ids, cancellationToken)).ToDictionary(s => s.AgentId);
        var specs = (await mesh.Store.GetSpecializationsAsync(cluster, ids, cancellationToken)).ToLookup(s => s.AgentId);
        var children = (await mesh.Store.GetChildrenAsync(cluster, ids, cancellationToken)).ToLookup(c => c.ParentId!);
        var killing = await AgentTree.KillDeadlinesAsync(mesh.Store, cluster, ids, cancellationToken);
        return agents.Select(agent =>
        {
            var session = latest.GetValueOrDefault(agent.AgentId);
            var status = session?.StatusAt(now);
            var terminating = TerminatingUntil(killing, agent.AgentId, status);
            return new AgentView
            {
                AgentId = agent.AgentId,
                Cluster = agent.Cluster,
                ParentId = agent.ParentId,
                Status = status,
                Alive = status?.IsAlive() ?? false,
                TerminatingUntil = terminating,
                ExitCode = session?.ExitCode,
                Labels = new Dictionary<string, string>(agent.Labels),
                Session = session is { IsOpen: true } ? MeshViews.Session(session, agent, specs[agent.AgentId].Select(s => s.Name), now) with { TerminatingUntil = terminating } : null,
                Specializations = specs[agent.AgentId].Select(MeshViews.Specialization).ToList(),
                Children = children[agent.AgentId].Select(c => c.AgentId).Order(StringComparer.Ordinal).ToList(),
                CreatedAt = agent.CreatedAt,
            };
        }).ToList();
    }
}
