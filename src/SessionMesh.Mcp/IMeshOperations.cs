using SessionMesh.Contracts;
using SessionMesh.Mesh;

namespace SessionMesh.Mcp;

/// <summary>
/// The mesh operations the MCP tools use, for one caller. Over stdio they go through the client SDK to a remote server;
/// over <c>/mcp</c> they call the Core services with the request's key. Either way a refusal is a <see cref="MeshException"/>
/// with the API's code (the scope checks are the API's own), and a mesh that cannot be reached is a
/// <see cref="MeshUnavailableException"/>.
/// Reads and kills act in the key's cluster (for <c>session-mesh mcp</c>, the one given with <c>--cluster</c>); requests
/// whose body names a cluster (steer, register, keys, the session list) may name another where the key allows it.
/// </summary>
public interface IMeshOperations
{
    Task<Page<SessionView>> ListSessionsAsync(AliveQuery query, CancellationToken cancellationToken);

    Task<SessionView> GetSessionAsync(string sessionId, CancellationToken cancellationToken);

    Task<AgentView> GetAgentAsync(string agentId, CancellationToken cancellationToken);

    Task<AgentTreeNode> GetAgentTreeAsync(string agentId, CancellationToken cancellationToken);

    Task<Page<RegistryEntry>> FindAgentsAsync(string specialization, bool aliveOnly, int? limit, string? cursor, CancellationToken cancellationToken);

    Task<RegistryEntry> RegisterAsync(RegisterRequest request, CancellationToken cancellationToken);

    Task<CommandView> SteerAsync(SteerRequest request, CancellationToken cancellationToken);

    Task<CommandView> SendMessageAsync(string agentId, MessageRequest request, CancellationToken cancellationToken);

    /// <summary>Where a command stands, waiting up to <paramref name="waitSeconds"/> (0..300) for it to complete.</summary>
    Task<CommandView> GetCommandAsync(string commandId, int waitSeconds, CancellationToken cancellationToken);

    Task<KillResponse> KillAsync(string agentId, KillRequest request, CancellationToken cancellationToken);

    Task<TopologyView> GetTopologyAsync(CancellationToken cancellationToken);

    /// <summary>One page of events after <paramref name="since"/>, oldest first (410 <c>revision_compacted</c> when that history is gone).</summary>
    Task<IReadOnlyList<EventView>> ListEventsAsync(long since, int limit, CancellationToken cancellationToken);

    /// <summary>Events after <paramref name="since"/> as they are committed; ends only by cancellation or an error.</summary>
    IAsyncEnumerable<EventView> WatchEventsAsync(long since, CancellationToken cancellationToken);

    /// <summary>The last <paramref name="tail"/> lines kept of the agent's output, oldest first (<c>read</c> scope).</summary>
    Task<LogTailView> TailLogsAsync(string agentId, int tail, CancellationToken cancellationToken);

    /// <summary>The agent's usage, own and rolled up over its sub-tree, against its budget; with <paramref name="tree"/>, per descendant.</summary>
    Task<UsageView> GetUsageAsync(string agentId, bool tree, CancellationToken cancellationToken);

    Task<CreatedKeyView> CreateKeyAsync(CreateKeyRequest request, CancellationToken cancellationToken);

    /// <summary>One page of the held locks of the key's cluster, by name (<c>read</c> scope).</summary>
    Task<Page<LockView>> ListLocksAsync(int? limit, string? cursor, CancellationToken cancellationToken);
}
