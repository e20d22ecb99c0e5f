using SessionMesh.Contracts;
using SessionMesh.Model;

namespace SessionMesh.Mesh;

public sealed partial class MeshService
{
    private static SessionView ToView(SessionRecord session, AgentRecord? agent, IEnumerable<string> specializations, DateTimeOffset now) => new()
    {
        SessionId = session.SessionId,
        AgentId = session.AgentId,
        Cluster = session.Cluster,
        ParentId = agent?.ParentId,
        Status = session.StatusAt(now),
        Ttl = session.Ttl,
        Load = session.Load,
        StartedAt = session.StartedAt,
        LastSeen = session.LastSeen,
        ExpiresAt = session.ExpiresAt,
        EndedAt = session.EndedAt,
        EndReason = session.EndReason,
        MaxRuntime = session.MaxRuntime,
        Labels = agent is null ? [] : new Dictionary<string, string>(agent.Labels),
        Specializations = specializations.ToList(),
    };

    private static SpecializationView ToView(SpecializationRecord spec) => new()
    {
        Name = spec.Name,
        Description = spec.Description,
        Tags = spec.Tags.ToList(),
        Version = spec.Version,
        RegisteredAt = spec.RegisteredAt,
    };

    private static RegistryEntry ToEntry(SpecializationRecord spec, SessionRecord? session, DateTimeOffset now)
    {
        var status = session?.StatusAt(now);
        return new RegistryEntry
        {
            AgentId = spec.AgentId,
            Cluster = spec.Cluster,
            Specialization = spec.Name,
            Description = spec.Description,
            Tags = spec.Tags.ToList(),
            Version = spec.Version,
            RegisteredAt = spec.RegisteredAt,
            Status = status,
            Alive = status?.IsAlive() ?? false,
            SessionId = session?.SessionId,
            Load = session?.Load,
        };
    }

    private static KeyView ToView(ApiKeyRecord key, DateTimeOffset now) => new()
    {
        KeyId = key.KeyId,
        Name = key.Name,
        Cluster = key.Cluster,
        Scopes = MeshScopeNames.ToNames(key.Scopes),
        AgentId = key.AgentId,
        State = key.StateAt(now),
        CreatedAt = key.CreatedAt,
        ExpiresAt = key.ExpiresAt,
        RevokedAt = key.RevokedAt,
        CreatedBy = key.CreatedBy,
        RotatedFrom = key.RotatedFrom,
    };

    /// <summary>Session views for a page of sessions, with agents and specializations loaded in two queries.</summary>
    private async Task<List<SessionView>> ToViewsAsync(string cluster, IReadOnlyList<SessionRecord> sessions, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var agentIds = sessions.Select(s => s.AgentId).Distinct().ToList();
        var agents = (await store.GetAgentsAsync(cluster, agentIds, cancellationToken)).ToDictionary(a => a.AgentId);
        var specs = (await store.GetSpecializationsAsync(cluster, agentIds, cancellationToken)).ToLookup(s => s.AgentId, s => s.Name);
        return sessions.Select(s => ToView(s, agents.GetValueOrDefault(s.AgentId), specs[s.AgentId], now)).ToList();
    }

    private async Task<SessionView> ToViewAsync(SessionRecord session, DateTimeOffset now, CancellationToken cancellationToken) =>
        (await ToViewsAsync(session.Cluster, [session], now, cancellationToken))[0];
}
