using SessionMesh.Model;
using SessionMesh.Store;

namespace SessionMesh.Mesh;

/// <summary>The parent→child tree's rules, read inside the write that depends on them.</summary>
internal static class AgentTree
{
    /// <summary>The parent must exist, the chain above it must not loop back to the agent, and must not be deeper than max_depth.</summary>
    public static async Task CheckParentChainAsync(IMeshWriteTransaction tx, MeshOptions options, string cluster, string agentId, string parentId, CancellationToken cancellationToken)
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

    /// <summary>
    /// Moving an agent that already has a parent to another one takes it out of that parent's tree (and out of the
    /// reach of a cascade kill of it): that needs the <c>register</c> scope, not only the agent's own key.
    /// </summary>
    public static void CheckReparent(Security.MeshCaller caller, AgentRecord? existing, string? newParentId)
    {
        if (existing?.ParentId is { } current && newParentId is not null && newParentId != current && !caller.Scopes.Covers(MeshScopes.Register))
        {
            throw MeshException.Forbidden("insufficient_scope", $"Agent '{existing.AgentId}' has parent '{current}'; moving it to another parent needs the 'register' scope.", "parent_id");
        }
    }

    /// <summary>
    /// A parent that is being killed, or whose last session was killed and that has not joined since, takes no new
    /// children: a cascade kill takes every child committed before it, and none can slip in after.
    /// </summary>
    public static async Task CheckParentNotKilledAsync(IMeshWriteTransaction tx, LeaseTable leases, string cluster, string parentId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var open = leases.OverlayOrNull(await tx.GetOpenSessionAsync(cluster, parentId, cancellationToken));
        if (open is not null && open.StatusAt(now) != SessionStatus.Expired)
        {
            if (await tx.GetPendingKillAsync(cluster, parentId, cancellationToken) is not null)
            {
                throw MeshException.Conflict("parent_killed", $"Agent '{parentId}' is being killed; it takes no new children.");
            }
            return;
        }
        if (await tx.GetLatestSessionAsync(cluster, parentId, cancellationToken) is { EndStatus: SessionStatus.Killed })
        {
            throw MeshException.Conflict("parent_killed", $"Agent '{parentId}' was killed; it must join again before it can have children.");
        }
    }

    /// <summary>The agents of <paramref name="agentIds"/> inside a graceful kill's grace period, with the deadline of each.</summary>
    public static async Task<Dictionary<string, DateTimeOffset>> KillDeadlinesAsync(IMeshStore store, string cluster, IReadOnlyCollection<string> agentIds, CancellationToken cancellationToken)
    {
        var deadlines = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        foreach (var kill in await store.GetPendingKillsAsync(cluster, agentIds, cancellationToken))
        {
            if (kill.DeadlineAt is { } deadline)
            {
                deadlines.TryAdd(kill.AgentId, deadline);
            }
        }
        return deadlines;
    }

    /// <summary>The agent and all its descendants, breadth first, each once; <paramref name="childrenOf"/> reads one level.</summary>
    public static async Task<List<AgentRecord>> CollectSubtreeAsync(AgentRecord root, Func<IReadOnlyCollection<string>, Task<IReadOnlyList<AgentRecord>>> childrenOf)
    {
        var all = new List<AgentRecord> { root };
        var seen = new HashSet<string>(StringComparer.Ordinal) { root.AgentId };
        var frontier = new List<string> { root.AgentId };
        while (frontier.Count > 0)
        {
            var children = await childrenOf(frontier);
            frontier = [];
            foreach (var child in children.Where(c => seen.Add(c.AgentId)))
            {
                all.Add(child);
                frontier.Add(child.AgentId);
            }
        }
        return all;
    }
}
