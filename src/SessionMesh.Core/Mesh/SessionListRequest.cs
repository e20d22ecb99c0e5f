namespace SessionMesh.Mesh;

/// <summary>The query of <c>GET /alive</c>, as given; validated by <see cref="SessionService.ListAsync"/>.</summary>
public sealed record SessionListRequest(
    string? Filter = null,
    string? Specialization = null,
    IReadOnlyList<string>? Labels = null,
    string? ParentId = null,
    string? AgentId = null,
    string? Cluster = null,
    int? Limit = null,
    string? Cursor = null);
