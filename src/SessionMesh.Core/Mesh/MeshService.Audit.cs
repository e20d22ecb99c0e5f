using SessionMesh.Contracts;
using SessionMesh.Model;
using SessionMesh.Security;

namespace SessionMesh.Mesh;

public sealed partial class MeshService
{
    /// <summary>Writes audit entries in one transaction (the server batches them off the request path).</summary>
    public async Task RecordAuditAsync(IReadOnlyList<AuditRecord> entries, CancellationToken cancellationToken)
    {
        if (entries.Count == 0)
        {
            return;
        }
        await using var tx = await store.BeginWriteAsync(cancellationToken);
        foreach (var entry in entries)
        {
            await tx.AppendAuditAsync(entry, cancellationToken);
        }
        await tx.CommitAsync(cancellationToken);
    }

    /// <summary>Audit entries newest first: an admin sees every cluster, a <c>keys</c> key its own.</summary>
    public async Task<Page<AuditView>> ListAuditAsync(MeshCaller caller, string? cluster, int? limit, string? cursor, CancellationToken cancellationToken)
    {
        caller.Require(MeshScopes.Keys);
        var size = Validate.Limit(limit);
        var resolved = caller.IsAdmin && string.IsNullOrEmpty(cluster) ? null : caller.ResolveCluster(cluster);
        var rows = await store.ListAuditAsync(resolved, Cursor.DecodeLong(cursor), size + 1, cancellationToken);
        var (page, next) = Cursor.Trim(rows, size, a => a.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return new Page<AuditView>
        {
            Items = page.Select(a => new AuditView { Id = a.Id, At = a.At, KeyId = a.KeyId, Cluster = a.Cluster, Method = a.Method, Path = a.Path, Status = a.Status, Code = a.Code }).ToList(),
            NextCursor = next,
        };
    }
}
