using SessionMesh.Contracts;
using SessionMesh.Model;
using SessionMesh.Security;

namespace SessionMesh.Mesh;

/// <summary>The audit log: who (key_id) made which mutating call, when, with what outcome.</summary>
public sealed class AuditService(MeshRuntime mesh)
{
    /// <summary>
    /// Writes audit entries in one transaction (the server batches them off the request path), riding in the next
    /// write's batch when one begins within <see cref="MeshRuntime.RidingPatience"/>: a burst of refused calls adds no
    /// fsyncs of its own to a busy store.
    /// </summary>
    public async Task RecordAsync(IReadOnlyList<AuditRecord> entries, CancellationToken cancellationToken)
    {
        if (entries.Count == 0)
        {
            return;
        }
        await using var tx = await mesh.Store.BeginRidingWriteAsync(MeshRuntime.RidingPatience, cancellationToken);
        foreach (var entry in entries)
        {
            await tx.AppendAuditAsync(entry, cancellationToken);
        }
        await tx.CommitAsync(cancellationToken);
    }

    /// <summary>Audit entries newest first: an admin sees every cluster, a <c>keys</c> key its own.</summary>
    public async Task<Page<AuditView>> ListAsync(MeshCaller caller, string? cluster, int? limit, string? cursor, CancellationToken cancellationToken)
    {
        caller.Require(MeshScopes.Keys);
        var size = Validate.Limit(limit);
        var resolved = caller.IsAdmin && string.IsNullOrEmpty(cluster) ? null : caller.ResolveCluster(cluster);
        var rows = await mesh.Store.ListAuditAsync(resolved, Cursor.DecodeLong(cursor), size + 1, cancellationToken);
        var (page, next) = Cursor.Trim(rows, size, a => a.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var views = page.Select(MeshViews.Audit).ToList();
        return PageBudget.Cut(views, next, kept => Cursor.Encode(views[kept - 1].Id), MeshJsonContext.Default.AuditView, mesh.Options.MaxPageBytes);
    }
}
