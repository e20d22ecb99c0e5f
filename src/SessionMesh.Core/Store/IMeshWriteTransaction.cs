using System.Text.Json;
using SessionMesh.Model;

namespace SessionMesh.Store;

/// <summary>
/// One atomic change. Writers are serialised, so reads inside see the latest committed state and
/// nothing else changes it before <see cref="CommitAsync"/>. Disposing without committing rolls back.
/// </summary>
public interface IMeshWriteTransaction : IAsyncDisposable
{
    /// <summary>Makes every change of this transaction durable.</summary>
    Task CommitAsync(CancellationToken cancellationToken);

    /// <summary>An agent by id within a cluster.</summary>
    Task<AgentRecord?> GetAgentAsync(string cluster, string agentId, CancellationToken cancellationToken);

    /// <summary>Inserts or replaces an agent.</summary>
    Task UpsertAgentAsync(AgentRecord agent, CancellationToken cancellationToken);

    /// <summary>The open session of an agent, if any.</summary>
    Task<SessionRecord?> GetOpenSessionAsync(string cluster, string agentId, CancellationToken cancellationToken);

    /// <summary>A session by id.</summary>
    Task<SessionRecord?> GetSessionAsync(string sessionId, CancellationToken cancellationToken);

    /// <summary>Inserts a new session.</summary>
    Task InsertSessionAsync(SessionRecord session, CancellationToken cancellationToken);

    /// <summary>Replaces a session's mutable fields.</summary>
    Task UpdateSessionAsync(SessionRecord session, CancellationToken cancellationToken);

    /// <summary>How many children of <paramref name="parentId"/> have an open session alive or stale at <paramref name="now"/>.</summary>
    Task<int> CountLiveChildrenAsync(string cluster, string parentId, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Open sessions that are past their TTL at <paramref name="now"/> (stale or due to expire).</summary>
    Task<IReadOnlyList<SessionRecord>> ListLapsedSessionsAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken);

    /// <summary>Extends every open lease to at least <paramref name="now"/> + its TTL; returns how many.</summary>
    Task<int> ExtendOpenLeasesAsync(DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>One registered specialization.</summary>
    Task<SpecializationRecord?> GetSpecializationAsync(string cluster, string agentId, string name, CancellationToken cancellationToken);

    /// <summary>Inserts or replaces a specialization.</summary>
    Task UpsertSpecializationAsync(SpecializationRecord specialization, CancellationToken cancellationToken);

    /// <summary>Removes a specialization; false when it was not there.</summary>
    Task<bool> DeleteSpecializationAsync(string cluster, string agentId, string name, CancellationToken cancellationToken);

    /// <summary>A key by id.</summary>
    Task<ApiKeyRecord?> GetKeyAsync(string keyId, CancellationToken cancellationToken);

    /// <summary>Inserts or replaces a key.</summary>
    Task UpsertKeyAsync(ApiKeyRecord key, CancellationToken cancellationToken);

    /// <summary>Appends an event and returns its revision, strictly above every earlier one.</summary>
    Task<long> AppendEventAsync(string cluster, string type, DateTimeOffset at, string? agentId, string? sessionId, JsonElement? data, CancellationToken cancellationToken);

    /// <summary>Appends an audit entry.</summary>
    Task AppendAuditAsync(AuditRecord entry, CancellationToken cancellationToken);
}
