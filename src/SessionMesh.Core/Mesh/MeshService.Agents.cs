using SessionMesh.Contracts;
using SessionMesh.Model;
using SessionMesh.Security;

namespace SessionMesh.Mesh;

public sealed partial class MeshService
{
    /// <summary>An agent with its open session, specializations and children.</summary>
    public async Task<AgentView> GetAgentAsync(MeshCaller caller, string agentId, string? cluster, CancellationToken cancellationToken)
    {
        caller.Require(MeshScopes.Read);
        var resolved = caller.ResolveCluster(cluster);
        var agent = await store.GetAgentAsync(resolved, agentId, cancellationToken) ?? throw MeshException.AgentNotFound(agentId);
        return (await ToAgentViewsAsync([agent], Now(), cancellationToken))[0];
    }

    /// <summary>
    /// Declares an agent before it joins, or changes its parent or labels: what a fleet definition needs.
    /// Created is false when the agent existed. Fields left out stay as they are.
    /// </summary>
    public async Task<(AgentView Agent, bool Created)> DeclareAgentAsync(MeshCaller caller, string agentId, DeclareAgentRequest request, CancellationToken cancellationToken)
    {
        Validate.AgentId(agentId);
        var parentId = request.ParentId is null ? null : Validate.AgentId(request.ParentId, "parent_id");
        if (parentId == agentId)
        {
            throw MeshException.Invalid("parent_id", "An agent cannot be its own parent.");
        }
        var labels = request.Labels is null ? null : Validate.Labels(request.Labels);
        var cluster = caller.ResolveCluster(request.Cluster);
        caller.RequireActingFor(agentId, MeshScopes.Register);

        var now = Now();
        await using var tx = await Store.BeginWriteAsync(cancellationToken);
        var existing = await tx.GetAgentAsync(cluster, agentId, cancellationToken);
        if (parentId is not null && parentId != existing?.ParentId)
        {
            await CheckParentChainAsync(tx, cluster, agentId, parentId, cancellationToken);
        }
        var agent = existing is null
            ? new AgentRecord(cluster, agentId, parentId, labels ?? [], now, now)
            : existing with { ParentId = parentId ?? existing.ParentId, Labels = labels ?? existing.Labels, UpdatedAt = now };
        var changed = existing is null || agent.ParentId != existing.ParentId || !SameLabels(agent.Labels, existing.Labels);
        long revision = 0;
        if (changed)
        {
            await tx.UpsertAgentAsync(agent, cancellationToken);
            revision = await AppendAsync(tx, "agent.declared", cluster, now, agentId, null,
                new AgentView { AgentId = agentId, Cluster = cluster, ParentId = agent.ParentId, Labels = new(agent.Labels), CreatedAt = agent.CreatedAt },
                MeshJsonContext.Default.AgentView, cancellationToken);
        }
        await CommitAsync(tx, revision, cancellationToken);
        return ((await ToAgentViewsAsync([agent], now, cancellationToken))[0], existing is null);
    }

    private static bool SameLabels(IReadOnlyDictionary<string, string> a, IReadOnlyDictionary<string, string> b) =>
        a.Count == b.Count && a.All(l => b.TryGetValue(l.Key, out var v) && v == l.Value);

    /// <summary>Agents of a cluster ordered by id, optionally the children of one parent.</summary>
    public async Task<Page<AgentView>> ListAgentsAsync(MeshCaller caller, string? cluster, string? parentId, int? limit, string? cursor, CancellationToken cancellationToken)
    {
        caller.Require(MeshScopes.Read);
        var resolved = caller.ResolveCluster(cluster);
        var size = Validate.Limit(limit);
        var parent = parentId is null ? null : Validate.AgentId(parentId, "parent_id");
        var rows = await store.ListAgentsAsync(resolved, parent, Cursor.Decode(cursor), size + 1, cancellationToken);
        var (page, next) = Cursor.Trim(rows, size, a => a.AgentId);
        return new Page<AgentView> { Items = await ToAgentViewsAsync(page, Now(), cancellationToken), NextCursor = next };
    }

    /// <summary>The agent and every descendant, as a tree.</summary>
    public async Task<AgentTreeNode> GetTreeAsync(MeshCaller caller, string agentId, string? cluster, CancellationToken cancellationToken)
    {
        caller.Require(MeshScopes.Read);
        var resolved = caller.ResolveCluster(cluster);
        var root = await store.GetAgentAsync(resolved, agentId, cancellationToken) ?? throw MeshException.AgentNotFound(agentId);
        var all = await CollectSubtreeAsync(resolved, root, cancellationToken);
        var sessions = (await store.GetLatestSessionsAsync(resolved, all.Select(a => a.AgentId).ToList(), cancellationToken)).ToDictionary(s => s.AgentId);
        var children = all.Where(a => a.ParentId is not null).ToLookup(a => a.ParentId!);
        var now = Now();

        AgentTreeNode Build(AgentRecord agent)
        {
            var status = sessions.GetValueOrDefault(agent.AgentId)?.StatusAt(now);
            return new AgentTreeNode
            {
                AgentId = agent.AgentId,
                ParentId = agent.ParentId,
                Status = status,
                Alive = status?.IsAlive() ?? false,
                SessionId = sessions.GetValueOrDefault(agent.AgentId) is { IsOpen: true } open ? open.SessionId : null,
                Children = children[agent.AgentId].OrderBy(c => c.AgentId, StringComparer.Ordinal).Select(Build).ToList(),
            };
        }
        return Build(root);
    }

    /// <summary>The agent and all its descendants, breadth first, visiting each agent once.</summary>
    private async Task<List<AgentRecord>> CollectSubtreeAsync(string cluster, AgentRecord root, CancellationToken cancellationToken)
    {
        var all = new List<AgentRecord> { root };
        var seen = new HashSet<string>(StringComparer.Ordinal) { root.AgentId };
        var frontier = new List<string> { root.AgentId };
        while (frontier.Count > 0)
        {
            var children = await store.GetChildrenAsync(cluster, frontier, cancellationToken);
            frontier = [];
            foreach (var child in children.Where(c => seen.Add(c.AgentId)))
            {
                all.Add(child);
                frontier.Add(child.AgentId);
            }
        }
        return all;
    }

    private async Task<List<AgentView>> ToAgentViewsAsync(IReadOnlyList<AgentRecord> agents, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (agents.Count == 0)
        {
            return [];
        }
        var cluster = agents[0].Cluster;
        var ids = agents.Select(a => a.AgentId).ToList();
        var latest = (await store.GetLatestSessionsAsync(cluster, ids, cancellationToken)).ToDictionary(s => s.AgentId);
        var specs = (await store.GetSpecializationsAsync(cluster, ids, cancellationToken)).ToLookup(s => s.AgentId);
        var children = (await store.GetChildrenAsync(cluster, ids, cancellationToken)).ToLookup(c => c.ParentId!);
        return agents.Select(agent =>
        {
            var session = latest.GetValueOrDefault(agent.AgentId);
            var status = session?.StatusAt(now);
            return new AgentView
            {
                AgentId = agent.AgentId,
                Cluster = agent.Cluster,
                ParentId = agent.ParentId,
                Status = status,
                Alive = status?.IsAlive() ?? false,
                Labels = new Dictionary<string, string>(agent.Labels),
                Session = session is { IsOpen: true } ? ToView(session, agent, specs[agent.AgentId].Select(s => s.Name), now) : null,
                Specializations = specs[agent.AgentId].Select(ToView).ToList(),
                Children = children[agent.AgentId].Select(c => c.AgentId).Order(StringComparer.Ordinal).ToList(),
                CreatedAt = agent.CreatedAt,
            };
        }).ToList();
    }
}
