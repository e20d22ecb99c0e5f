namespace SessionMesh.Model;

/// <summary>
/// An agent's A2A Agent Card as it was stored: the card's JSON text (compact, every field kept, unknown ones too) and
/// when it was last written.
/// </summary>
public sealed record AgentCardRecord(string Cluster, string AgentId, string Card, DateTimeOffset UpdatedAt);
