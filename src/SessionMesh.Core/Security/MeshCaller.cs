using SessionMesh.Mesh;
using SessionMesh.Model;

namespace SessionMesh.Security;

/// <summary>The authenticated key behind a request, and the checks every operation makes against it.</summary>
public sealed record MeshCaller(string KeyId, string Cluster, MeshScopes Scopes, string? AgentId, DateTimeOffset? ExpiresAt)
{
    public bool IsAdmin => Scopes.HasFlag(MeshScopes.Admin);

    /// <summary>
    /// The cluster a request acts in: the one asked for, else the key's. A key bound to one cluster
    /// asking for another gets 404, as if nothing were there.
    /// </summary>
    public string ResolveCluster(string? requested)
    {
        if (string.IsNullOrEmpty(requested) || requested == Cluster)
        {
            return Cluster;
        }
        Validate.Cluster(requested);
        return IsAdmin
            ? requested
            : throw MeshException.NotFound("cluster_not_found", $"No cluster '{requested}' is visible to this key.");
    }

    /// <summary>True when the caller may see a thing that lives in <paramref name="cluster"/>.</summary>
    public bool CanSee(string cluster) => IsAdmin || cluster == Cluster;

    public void Require(MeshScopes scope)
    {
        if (!Scopes.Covers(scope))
        {
            throw MeshException.Forbidden("insufficient_scope", $"This key lacks the '{MeshScopeNames.ToNames(scope)[0]}' scope.");
        }
    }

    /// <summary>
    /// Allows acting for <paramref name="agentId"/> with the <c>agent</c> scope (a bound key only as its own
    /// agent), or with <paramref name="operatorScope"/>, which acts for any agent.
    /// </summary>
    public void RequireActingFor(string agentId, MeshScopes operatorScope = MeshScopes.None, string field = "agent_id")
    {
        if (operatorScope != MeshScopes.None && Scopes.Covers(operatorScope))
        {
            return;
        }
        Require(MeshScopes.Agent);
        if (AgentId is not null && AgentId != agentId && !IsAdmin)
        {
            throw MeshException.Forbidden("agent_mismatch", $"This key is bound to agent '{AgentId}' and cannot act as '{agentId}'.", field);
        }
    }
}
