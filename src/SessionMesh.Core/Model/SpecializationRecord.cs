namespace SessionMesh.Model;

/// <summary>A capability an agent registered (A2A's AgentSkill shape).</summary>
public sealed record SpecializationRecord(
    string Cluster,
    string AgentId,
    string Name,
    string? Description,
    IReadOnlyList<string> Tags,
    string? Version,
    DateTimeOffset RegisteredAt)
{
    /// <summary>True when both describe the capability the same way (times aside).</summary>
    public bool SameAs(SpecializationRecord other) =>
        Description == other.Description && Version == other.Version && Tags.SequenceEqual(other.Tags);
}
