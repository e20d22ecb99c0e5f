namespace SessionMesh.Model;

/// <summary>A logical agent: survives across sessions.</summary>
public sealed record AgentRecord(
    string Cluster,
    string AgentId,
    string? ParentId,
    IReadOnlyDictionary<string, string> Labels,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);
