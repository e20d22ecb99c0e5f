using System.ComponentModel;
using ModelContextProtocol.Server;
using SessionMesh.Contracts;

namespace SessionMesh.Mcp;

// Parameter names are the API's snake_case field names, so a tool's schema reads like the HTTP API and SKILL.md.
#pragma warning disable IDE1006

/// <summary>Session-bound locks, read-only: which agent holds what, so a coding agent does not clobber another's work.</summary>
[McpServerToolType]
internal sealed class MeshLockTools
{
    [McpServerTool(Name = "list_locks", Title = "List locks", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false)]
    [Description("Lists the session-bound locks held in the cluster, like GET /api/session-mesh/locks: each lock's name (e.g. repo/main), the session and agent holding it, since when and until when. A lock is released when its holder's session ends. Returns one page; pass next_cursor back as cursor for the next.")]
    public static Task<Page<LockView>> ListLocksAsync(
        IMeshOperations mesh,
        [Description("Page size, 1..1000 (default 100).")] int? limit = null,
        [Description("The next_cursor of the previous page.")] string? cursor = null,
        CancellationToken cancellationToken = default) =>
        mesh.ListLocksAsync(limit, cursor, cancellationToken);
}
