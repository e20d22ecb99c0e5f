using SessionMesh.Model;

namespace SessionMesh.Store;

/// <summary>A filtered, keyset-paged read of sessions.</summary>
/// <param name="Labels">Label selectors, each an exact key=value match.</param>
/// <param name="AfterSessionId">Return only sessions whose id sorts after this one.</param>
public sealed record SessionQuery(
    string Cluster,
    StatusFilter Filter,
    DateTimeOffset Now,
    int Limit,
    string? Specialization = null,
    IReadOnlyList<KeyValuePair<string, string>>? Labels = null,
    string? ParentId = null,
    string? AgentId = null,
    string? AfterSessionId = null);

/// <summary>A registry look-up.</summary>
public sealed record RegistryQuery(string Cluster, string Specialization, bool AliveOnly, DateTimeOffset Now, int Offset, int Limit);

/// <summary>An agent registered for a specialization, with its open session if any.</summary>
public sealed record RegistryMatch(SpecializationRecord Specialization, SessionRecord? Session);

/// <summary>How many agents registered a specialization, and how many of them are alive.</summary>
public sealed record SpecializationCount(string Specialization, int Agents, int Alive);
