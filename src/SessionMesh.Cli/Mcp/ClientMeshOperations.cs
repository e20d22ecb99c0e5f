using System.Runtime.CompilerServices;
using SessionMesh.Client;
using SessionMesh.Contracts;
using SessionMesh.Mcp;
using SessionMesh.Mesh;

namespace SessionMesh.Cli.Mcp;

/// <summary>
/// The MCP tools' operations over the client SDK, for <c>session-mesh mcp</c>: every call is an API call with the key
/// from <c>SESSION_API_KEY</c>, so the server makes its own scope checks; its problem+json comes back as the
/// <see cref="MeshException"/> the tools turn into a tool error, with the same code.
/// </summary>
internal sealed class ClientMeshOperations(SessionMeshClient client) : IMeshOperations
{
    public Task<Page<SessionView>> ListSessionsAsync(AliveQuery query, CancellationToken cancellationToken) =>
        CallAsync(() => client.ListAliveAsync(query, cancellationToken));

    public Task<Page<LockView>> ListLocksAsync(int? limit, string? cursor, CancellationToken cancellationToken) =>
        CallAsync(() => client.ListLocksAsync(limit, cursor, null, cancellationToken));

    public Task<SessionView> GetSessionAsync(string sessionId, CancellationToken cancellationToken) =>
        CallAsync(() => client.GetSessionAsync(sessionId, cancellationToken));

    public Task<AgentView> GetAgentAsync(string agentId, CancellationToken cancellationToken) =>
        CallAsync(() => client.GetAgentAsync(agentId, cancellationToken));

    public Task<AgentTreeNode> GetAgentTreeAsync(string agentId, CancellationToken cancellationToken) =>
        CallAsync(() => client.GetAgentTreeAsync(agentId, cancellationToken));

    public Task<Page<RegistryEntry>> FindAgentsAsync(string specialization, bool aliveOnly, int? limit, string? cursor, CancellationToken cancellationToken) =>
        CallAsync(() => client.ListRegistryAsync(specialization, aliveOnly, limit, cursor, cancellationToken));

    public async Task<RegistryEntry> RegisterAsync(RegisterRequest request, CancellationToken cancellationToken) =>
        (await CallAsync(() => client.RegisterAsync(request, cancellationToken))).Entry;

    public Task<CommandView> SteerAsync(SteerRequest request, CancellationToken cancellationToken) =>
        CallAsync(() => client.SteerAsync(request, null, cancellationToken));

    public Task<CommandView> SendMessageAsync(string agentId, MessageRequest request, CancellationToken cancellationToken) =>
        CallAsync(() => client.SendMessageAsync(agentId, request, null, cancellationToken));

    public Task<CommandView> GetCommandAsync(string commandId, int waitSeconds, CancellationToken cancellationToken) =>
        CallAsync(() => client.GetCommandAsync(commandId, waitSeconds, cancellationToken));

    public Task<KillResponse> KillAsync(string agentId, KillRequest request, CancellationToken cancellationToken) =>
        CallAsync(() => client.KillAsync(agentId, new KillOptions
        {
            Force = request.Force,
            Cascade = request.Cascade,
            GracePeriod = request.GracePeriod,
            Reason = request.Reason,
        }, cancellationToken));

    public Task<TopologyView> GetTopologyAsync(CancellationToken cancellationToken) =>
        CallAsync(() => client.GetTopologyAsync(cancellationToken));

    public async Task<IReadOnlyList<EventView>> ListEventsAsync(long since, int limit, CancellationToken cancellationToken) =>
        (await CallAsync(() => client.ListEventsAsync(since, limit, cancellationToken))).Items;

    public async IAsyncEnumerable<EventView> WatchEventsAsync(long since, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var events = client.WatchEventsAsync(since, cancellationToken).GetAsyncEnumerator(cancellationToken);
        while (await CallAsync(async () => await events.MoveNextAsync()))
        {
            yield return events.Current;
        }
    }

    public Task<LogTailView> TailLogsAsync(string agentId, int tail, CancellationToken cancellationToken) =>
        CallAsync(() => client.GetLogsAsync(agentId, tail, cancellationToken));

    public Task<UsageView> GetUsageAsync(string agentId, bool tree, CancellationToken cancellationToken) =>
        CallAsync(() => client.GetUsageAsync(agentId, tree, cancellationToken));

    public Task<CreatedKeyView> CreateKeyAsync(CreateKeyRequest request, CancellationToken cancellationToken) =>
        CallAsync(() => client.CreateKeyAsync(request, null, cancellationToken));

    private static async Task<T> CallAsync<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (SessionMeshConnectionException ex)
        {
            throw new MeshUnavailableException("server_unreachable", ex.Message, ex);
        }
        catch (SessionMeshException ex) when (KindOf(ex.Status) is { } kind)
        {
            throw new MeshException(kind, ex.Code ?? "http_" + ex.Status, ex.Detail ?? ex.Message, ex.Field, ex.Title, ex);
        }
        catch (SessionMeshException ex)
        {
            throw new MeshUnavailableException(ex.Code ?? "http_" + ex.Status, ex.Detail ?? ex.Message, ex);
        }
    }

    /// <summary>The refusal an API status stands for; null for what is a condition of the moment (429, 5xx).</summary>
    private static MeshErrorKind? KindOf(int status) => status switch
    {
        400 or 413 or 422 => MeshErrorKind.Invalid,
        401 => MeshErrorKind.Unauthorized,
        403 => MeshErrorKind.Forbidden,
        404 => MeshErrorKind.NotFound,
        409 => MeshErrorKind.Conflict,
        410 => MeshErrorKind.Gone,
        507 => MeshErrorKind.StorageFull,
        _ => null,
    };
}
