namespace SessionMesh.Contracts;

/// <summary>
/// The query of <c>GET /alive</c>, as given: what the client sends, the CLI builds, and
/// <see cref="Mesh.SessionService.ListAsync"/> validates.
/// </summary>
public sealed record AliveQuery
{
    /// <summary><c>active</c>, <c>idle</c>, <c>stale</c>, <c>alive</c> (default), <c>ended</c>, <c>orphaned</c> or <c>all</c>.</summary>
    public string? Filter { get; init; }
    /// <summary>Only agents registered for this specialization.</summary>
    public string? Specialization { get; init; }
    /// <summary>Label selectors, each <c>key=value</c>; all must match.</summary>
    public IReadOnlyList<string>? Labels { get; init; }
    /// <summary>Only children of this agent.</summary>
    public string? ParentId { get; init; }
    /// <summary>Only this agent.</summary>
    public string? AgentId { get; init; }
    /// <summary>The cluster; defaults to the key's (another one needs an admin key).</summary>
    public string? Cluster { get; init; }
    /// <summary>Page size, 1..1000 (server default 100).</summary>
    public int? Limit { get; init; }
    /// <summary>The <c>next_cursor</c> of the previous page.</summary>
    public string? Cursor { get; init; }
}
