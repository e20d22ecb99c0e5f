using SessionMesh.Contracts;
using SessionMesh.Model;
using SessionMesh.Security;
using SessionMesh.Store;

namespace SessionMesh.Mesh;

public sealed partial class MeshService
{
    /// <summary>Registers a specialization; an agent that never joined is declared. Created is false when it existed.</summary>
    public async Task<(RegistryEntry Entry, bool Created)> RegisterAsync(MeshCaller caller, RegisterRequest request, CancellationToken cancellationToken)
    {
        var name = Validate.Specialization(request.Specialization);
        var agentId = Validate.AgentId(request.AgentId);
        var description = Validate.Text(request.Description, "description", MeshLimits.MaxDescriptionLength);
        var version = Validate.Text(request.Version, "version", MeshLimits.MaxVersionLength);
        var tags = Validate.Tags(request.Tags);
        var cluster = caller.ResolveCluster(request.Cluster);
        caller.RequireActingFor(agentId, MeshScopes.Register);

        var now = Now();
        await using var tx = await store.BeginWriteAsync(cancellationToken);
        if (await tx.GetAgentAsync(cluster, agentId, cancellationToken) is null)
        {
            await tx.UpsertAgentAsync(new AgentRecord(cluster, agentId, null, new Dictionary<string, string>(), now, now), cancellationToken);
        }
        var existing = await tx.GetSpecializationAsync(cluster, agentId, name, cancellationToken);
        var record = new SpecializationRecord(cluster, agentId, name, description, tags, version, existing?.RegisteredAt ?? now);
        var revision = await UpsertSpecializationAsync(tx, record, now, cancellationToken);
        var session = await tx.GetOpenSessionAsync(cluster, agentId, cancellationToken);
        await CommitAsync(tx, revision ?? 0, cancellationToken);
        return (ToEntry(revision is null ? existing! : record, session, now), existing is null);
    }

    /// <summary>Removes a registration.</summary>
    public async Task<UnregisterResponse> UnregisterAsync(MeshCaller caller, string agentId, string specialization, string? cluster, CancellationToken cancellationToken)
    {
        var resolved = caller.ResolveCluster(cluster);
        caller.RequireActingFor(agentId, MeshScopes.Register);
        var now = Now();
        await using var tx = await store.BeginWriteAsync(cancellationToken);
        var existing = await tx.GetSpecializationAsync(resolved, agentId, specialization, cancellationToken);
        if (existing is null)
        {
            throw await tx.GetAgentAsync(resolved, agentId, cancellationToken) is null
                ? MeshException.AgentNotFound(agentId)
                : MeshException.NotFound("specialization_not_found", $"Agent '{agentId}' has no specialization '{specialization}'.");
        }
        await tx.DeleteSpecializationAsync(resolved, agentId, specialization, cancellationToken);
        var revision = await AppendAsync(tx, "agent.unregistered", resolved, now, agentId, null, ToEntry(existing, null, now), MeshJsonContext.Default.RegistryEntry, cancellationToken);
        await CommitAsync(tx, revision, cancellationToken);
        return new UnregisterResponse { AgentId = agentId, Specialization = specialization, Removed = true };
    }

    /// <summary>Agents with a specialization, alive first and least loaded first.</summary>
    public async Task<Page<RegistryEntry>> FindAsync(MeshCaller caller, string? specialization, bool aliveOnly, string? cluster, int? limit, string? cursor, CancellationToken cancellationToken)
    {
        caller.Require(MeshScopes.Read);
        var name = Validate.Specialization(specialization);
        var resolved = caller.ResolveCluster(cluster);
        var size = Validate.Limit(limit);
        var offset = (int)(Cursor.DecodeLong(cursor) ?? 0);
        var now = Now();
        var rows = await store.FindBySpecializationAsync(new RegistryQuery(resolved, name, aliveOnly, now, offset, size + 1), cancellationToken);
        var more = rows.Count > size;
        return new Page<RegistryEntry>
        {
            Items = rows.Take(size).Select(m => ToEntry(m.Specialization, m.Session, now)).ToList(),
            NextCursor = more ? Cursor.Encode(offset + size) : null,
        };
    }

    /// <summary>Every specialization with counts of agents and alive agents.</summary>
    public async Task<Page<SpecializationSummary>> SummarizeAsync(MeshCaller caller, string? cluster, CancellationToken cancellationToken)
    {
        caller.Require(MeshScopes.Read);
        var counts = await store.CountSpecializationsAsync(caller.ResolveCluster(cluster), Now(), cancellationToken);
        return new Page<SpecializationSummary>
        {
            Items = counts.Select(c => new SpecializationSummary { Specialization = c.Specialization, Agents = c.Agents, Alive = c.Alive }).ToList(),
        };
    }

    /// <summary>Writes a specialization and its event unless nothing changed; returns the event's revision, or null.</summary>
    private static async Task<long?> UpsertSpecializationAsync(IMeshWriteTransaction tx, SpecializationRecord record, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var existing = await tx.GetSpecializationAsync(record.Cluster, record.AgentId, record.Name, cancellationToken);
        if (existing is not null && existing.SameAs(record))
        {
            return null;
        }
        var stored = record with { RegisteredAt = existing?.RegisteredAt ?? record.RegisteredAt };
        await tx.UpsertSpecializationAsync(stored, cancellationToken);
        return await AppendAsync(tx, "agent.registered", stored.Cluster, now, stored.AgentId, null, ToEntry(stored, null, now), MeshJsonContext.Default.RegistryEntry, cancellationToken);
    }
}
