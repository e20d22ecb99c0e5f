using SessionMesh.Contracts;
using SessionMesh.Model;

namespace SessionMesh.Mesh;

/// <summary>Records as the API shows them: one mapping of each, used by answers, events and streams alike.</summary>
public static class MeshViews
{
    /// <summary>A session with its agent's parent and labels and the given specializations.</summary>
    public static SessionView Session(SessionRecord session, AgentRecord? agent, IEnumerable<string> specializations, DateTimeOffset now) => new()
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
        ExitCode = session.ExitCode,
        MaxRuntime = session.MaxRuntime,
        Progress = session.Progress,
        ProgressedAt = session.ProgressedAt,
        StallAfter = session.StallAfter,
        OnStall = session.OnStall,
        Budget = session.Budget,
        BudgetUsed = session.Budget is null ? null : session.BudgetUsed ?? new AgentProgress(),
        BudgetAlert = session.BudgetAlert,
        Labels = agent is null ? [] : new Dictionary<string, string>(agent.Labels),
        Specializations = specializations.ToList(),
    };

    /// <summary>The lease part of a session: the answer to a heartbeat, and a command stream's <c>lease</c> frame.</summary>
    public static HeartbeatResponse Lease(SessionRecord session, DateTimeOffset now) => new()
    {
        SessionId = session.SessionId,
        Status = session.StatusAt(now),
        Ttl = session.Ttl,
        Load = session.Load,
        LastSeen = session.LastSeen,
        ExpiresAt = session.ExpiresAt,
    };

    /// <summary>The answer to a heartbeat renewed in place, made without a record.</summary>
    internal static HeartbeatResponse Lease(RenewedLease lease, DateTimeOffset now) => new()
    {
        SessionId = lease.Base.SessionId,
        Status = lease.StatusAt(now),
        Ttl = lease.Base.Ttl,
        Load = lease.Load,
        LastSeen = lease.LastSeen,
        ExpiresAt = lease.ExpiresAt,
    };

    public static SpecializationView Specialization(SpecializationRecord spec) => new()
    {
        Name = spec.Name,
        Description = spec.Description,
        Tags = spec.Tags.ToList(),
        Version = spec.Version,
        RegisteredAt = spec.RegisteredAt,
    };

    /// <summary>A registration with the liveness of the agent's open session.</summary>
    public static RegistryEntry RegistryEntry(SpecializationRecord spec, SessionRecord? session, DateTimeOffset now)
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

    public static KeyView Key(ApiKeyRecord key, DateTimeOffset now) => new()
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

    public static CommandView Command(CommandRecord command) => new()
    {
        CommandId = command.CommandId,
        AgentId = command.AgentId,
        Cluster = command.Cluster,
        Kind = command.Kind.ToWire(),
        Status = command.Status.ToWire(),
        Sequence = command.Sequence,
        Direction = command.Direction,
        Mode = command.Mode,
        Text = command.Text,
        From = command.From,
        Reason = command.Reason,
        GracePeriod = command.GracePeriod,
        Payload = command.Payload,
        Result = command.Result,
        CreatedAt = command.CreatedAt,
        DeliveredAt = command.DeliveredAt,
        CompletedAt = command.CompletedAt,
        ExpiresAt = command.Kind == CommandKind.Kill ? null : command.DeadlineAt,
        CreatedBy = command.CreatedBy,
    };

    public static EventView Event(MeshEventRecord e) => new()
    {
        Revision = e.Revision,
        Type = e.Type,
        Cluster = e.Cluster,
        At = e.At,
        AgentId = e.AgentId,
        SessionId = e.SessionId,
        Data = e.Data,
    };

    public static AuditView Audit(AuditRecord a) => new()
    {
        Id = a.Id,
        At = a.At,
        KeyId = a.KeyId,
        Cluster = a.Cluster,
        Method = a.Method,
        Path = a.Path,
        Status = a.Status,
        Code = a.Code,
    };
}
