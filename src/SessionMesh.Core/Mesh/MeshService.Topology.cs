using SessionMesh.Contracts;
using SessionMesh.Model;
using SessionMesh.Security;

namespace SessionMesh.Mesh;

public sealed partial class MeshService
{
    /// <summary>Every agent of a cluster with its status, and the parent→child edges between them.</summary>
    public async Task<TopologyView> GetTopologyAsync(MeshCaller caller, string? cluster, CancellationToken cancellationToken)
    {
        caller.Require(MeshScopes.Read);
        var resolved = caller.ResolveCluster(cluster);
        var agents = new List<AgentRecord>();
        for (string? after = null; ;)
        {
            var page = await store.ListAgentsAsync(resolved, null, after, MeshLimits.MaxPageSize, cancellationToken);
            agents.AddRange(page);
            if (page.Count < MeshLimits.MaxPageSize)
            {
                break;
            }
            after = page[^1].AgentId;
        }
        var ids = agents.Select(a => a.AgentId).ToList();
        var sessions = (await store.GetLatestSessionsAsync(resolved, ids, cancellationToken)).ToDictionary(s => s.AgentId);
        var specs = (await store.GetSpecializationsAsync(resolved, ids, cancellationToken)).ToLookup(s => s.AgentId, s => s.Name);
        var known = ids.ToHashSet(StringComparer.Ordinal);
        var now = Now();
        SessionStatus? StatusOf(string id) => sessions.GetValueOrDefault(id)?.StatusAt(now);
        bool ParentGone(AgentRecord a) => a.ParentId is { } p && StatusOf(p) is not (SessionStatus.Active or SessionStatus.Idle or SessionStatus.Stale);

        return new TopologyView
        {
            Cluster = resolved,
            Nodes = agents.Select(a => new TopologyNode
            {
                AgentId = a.AgentId,
                ParentId = a.ParentId,
                Status = StatusOf(a.AgentId)?.ToWire(),
                Alive = StatusOf(a.AgentId)?.IsAlive() ?? false,
                Orphaned = (StatusOf(a.AgentId)?.IsAlive() ?? false) && ParentGone(a),
                Specializations = specs[a.AgentId].ToList(),
            }).ToList(),
            Edges = agents.Where(a => a.ParentId is not null && known.Contains(a.ParentId))
                .Select(a => new TopologyEdge { From = a.ParentId!, To = a.AgentId }).ToList(),
        };
    }
}
