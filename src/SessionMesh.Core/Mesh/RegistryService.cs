using SessionMesh.Contracts;
using SessionMesh.Model;
using SessionMesh.Security;
using SessionMesh.Store;

namespace SessionMesh.Mesh;

/// <summary>The registry: which agent has which specialization, found alive first and least loaded first.</summary>
public sealed class RegistryService(MeshRuntime mesh)
{
    /// <summary>
    /// Registers a specialization; an agent that never joined is declared. Created is true for a new registration; the
    /// entry's <c>changed</c> says whether anything changed (a new one, or a new description, tags or version).
    /// </summary>
    public async Task<(RegistryEntry Entry, bool Created)> RegisterAsync(MeshCaller caller, RegisterRequest request, CancellationToken cancellationToken)
    {
        var name = Validate.Specialization(request.Specialization);
        var agentId = Validate.AgentId(request.AgentId);
        var description = Validate.Text(request.Description, "description", MeshLimits.MaxDescriptionLength);
        var version = Validate.Text(request.Version, "version", MeshLimits.MaxVersionLength);
        var tags = Validate.Tags(request.Tags);
        var cluster = caller.ResolveCluster(request.Cluster);
        MeshAudit.InCluster(cluster);
        caller.RequireActingFor(agentId, MeshScopes.Register);

        var now = mesh.Now();
        await using var tx = await mesh.Store.BeginWriteAsync(cancellationToken);
        if (await tx.GetAgentAsync(cluster, agentId, cancellationToken) is null)
        {
            await tx.UpsertAgentAsync(new AgentRecord(cluster, agentId, null, new Dictionary<string, string>(), now, now), cancellationToken);
        }
        var existing = await tx.GetSpecializationAsync(cluster, agentId, name, cancellationToken);
        var record = new SpecializationRecord(cluster, agentId, name, description, tags, version, existing?.RegisteredAt ?? now);
        var revision = await UpsertAsync(tx, record, now, cancellationToken);
        var session = mesh.Leases.OverlayOrNull(await tx.GetOpenSessionAsync(cluster, agentId, cancellationToken));
        MeshAudit.Current?.Created = existing is null;
        await mesh.CommitAsync(tx, revision ?? 0, cancellationToken);
        var entry = MeshViews.RegistryEntry(revision is null ? existing! : record, session, now) with { Changed = revision is not null };
        return (entry, existing is null);
    }

    /// <summary>Removes a registration.</summary>
    public async Task<UnregisterResponse> UnregisterAsync(MeshCaller caller, string agentId, string specialization, string? cluster, CancellationToken cancellationToken)
    {
        var resolved = caller.ResolveCluster(cluster);
        MeshAudit.InCluster(resolved);
        caller.RequireActingFor(agentId, MeshScopes.Register);
        var now = mesh.Now();
        await using var tx = await mesh.Store.BeginWriteAsync(cancellationToken);
        var existing = await tx.GetSpecializationAsync(resolved, agentId, specialization, cancellationToken);
        if (existing is null)
        {
            throw await tx.GetAgentAsync(resolved, agentId, cancellationToken) is null
                ? MeshException.AgentNotFound(agentId)
                : MeshException.NotFound("specialization_not_found", $"Agent '{agentId}' has no specialization '{specialization}'.");
        }
        await tx.DeleteSpecializationAsync(resolved, agentId, specialization, cancellationToken);
        var revision = await MeshRuntime.AppendEventAsync(tx, "agent.unregistered", resolved, now, agentId, null, MeshViews.RegistryEntry(existing, null, now), MeshJsonContext.Default.RegistryEntry, cancellationToken);
        await mesh.CommitAsync(tx, revision, cancellationToken);
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
        // The store orders by liveness and load, i.e. by lease fields: the renewals acknowledged so far must be in it.
        await mesh.Leases.FlushAsync(cancellationToken);
        var now = mesh.Now();
        var rows = await mesh.Store.FindBySpecializationAsync(new RegistryQuery(resolved, name, aliveOnly, now, offset, size + 1), cancellationToken);
        var more = rows.Count > size;
        var views = rows.Take(size).Select(m => MeshViews.RegistryEntry(m.Specialization, mesh.Leases.OverlayOrNull(m.Session), now)).ToList();
        return PageBudget.Cut(views, more ? Cursor.Encode(offset + size) : null, kept => Cursor.Encode(offset + kept), MeshJsonContext.Default.RegistryEntry, mesh.Options.MaxPageBytes);
    }

    /// <summary>Every specialization with counts of agents and alive agents.</summary>
    public async Task<Page<SpecializationSummary>> SummarizeAsync(MeshCaller caller, string? cluster, CancellationToken cancellationToken)
    {
        caller.Require(MeshScopes.Read);
        await mesh.Leases.FlushAsync(cancellationToken);
        var counts = await mesh.Store.CountSpecializationsAsync(caller.ResolveCluster(cluster), mesh.Now(), cancellationToken);
        return new Page<SpecializationSummary>
        {
            Items = counts.Select(c => new SpecializationSummary { Specialization = c.Specialization, Agents = c.Agents, Alive = c.Alive }).ToList(),
        };
    }

    /// <summary>Writes a specialization and its event unless nothing changed; returns the event's revision, or null.</summary>
    internal static async Task<long?> UpsertAsync(IMeshWriteTransaction tx, SpecializationRecord record, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var existing = await tx.GetSpecializationAsync(record.Cluster, record.AgentId, record.Name, cancellationToken);
        if (existing is not null && existing.SameAs(record))
        {
            return null;
        }
        var stored = record with { RegisteredAt = existing?.RegisteredAt ?? record.RegisteredAt };
        await tx.UpsertSpecializationAsync(stored, cancellationToken);
        return await MeshRuntime.AppendEventAsync(tx, "agent.registered", stored.Cluster, now, stored.AgentId, null, MeshViews.RegistryEntry(stored, null, now), MeshJsonContext.Default.RegistryEntry, cancellationToken);
    }

    /// <summary>The specializations given with a join, each checked and named by its index.</summary>
    internal static List<SpecializationInput> ValidateInputs(List<SpecializationInput>? specializations)
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
