using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Http;
using SessionMesh.Contracts;
using SessionMesh.Mcp;
using SessionMesh.Mesh;
using SessionMesh.Security;
using SessionMesh.Server.Auth;
using SessionMesh.Server.Hosting;

namespace SessionMesh.Server.Mcp;

/// <summary>
/// The MCP tools' operations on <c>/mcp</c>: the Core services, called as the key that authenticated the HTTP request,
/// so every scope check and error code is the API's own. Mutations are audited like API calls, as
/// <c>MCP /mcp/tools/{tool}</c>.
/// </summary>
internal sealed class CoreMeshOperations(
    IHttpContextAccessor http,
    SessionService sessions,
    AgentService agents,
    RegistryService registry,
    CommandService commands,
    EventService events,
    KeyService keys,
    LogService logs,
    LockService locks,
    AuditWriter audit,
    TimeProvider time) : IMeshOperations
{
    private MeshCaller Caller =>
        http.HttpContext?.User.Identities.OfType<MeshIdentity>().FirstOrDefault()?.Caller
        ?? throw MeshException.Unauthorized("missing_key", "Send a session key: 'Authorization: Bearer <session_key>'.");

    public Task<Page<SessionView>> ListSessionsAsync(AliveQuery query, CancellationToken cancellationToken) =>
        sessions.ListAsync(Caller, query, cancellationToken);

    public Task<Page<LockView>> ListLocksAsync(int? limit, string? cursor, CancellationToken cancellationToken) =>
        locks.ListAsync(Caller, null, limit, cursor, cancellationToken);

    public Task<SessionView> GetSessionAsync(string sessionId, CancellationToken cancellationToken) =>
        sessions.GetAsync(Caller, sessionId, cancellationToken);

    public Task<AgentView> GetAgentAsync(string agentId, CancellationToken cancellationToken) =>
        agents.GetAsync(Caller, agentId, null, cancellationToken);

    public Task<AgentTreeNode> GetAgentTreeAsync(string agentId, CancellationToken cancellationToken) =>
        agents.GetTreeAsync(Caller, agentId, null, cancellationToken);

    public Task<Page<RegistryEntry>> FindAgentsAsync(string specialization, bool aliveOnly, int? limit, string? cursor, CancellationToken cancellationToken) =>
        registry.FindAsync(Caller, specialization, aliveOnly, null, limit, cursor, cancellationToken);

    public Task<RegistryEntry> RegisterAsync(RegisterRequest request, CancellationToken cancellationToken) =>
        AuditedAsync("register_specialization", async caller => (await registry.RegisterAsync(caller, request, cancellationToken)).Entry);

    public Task<CommandView> SteerAsync(SteerRequest request, CancellationToken cancellationToken) =>
        AuditedAsync("steer_agent", async caller =>
            await commands.SettleAsync((await commands.SteerAsync(caller, request, null, cancellationToken)).Command, cancellationToken));

    public Task<CommandView> SendMessageAsync(string agentId, MessageRequest request, CancellationToken cancellationToken) =>
        AuditedAsync("send_message", async caller =>
            await commands.SettleAsync((await commands.MessageAsync(caller, agentId, request, null, null, cancellationToken)).Command, cancellationToken));

    public Task<CommandView> GetCommandAsync(string commandId, int waitSeconds, CancellationToken cancellationToken) =>
        commands.GetAsync(Caller, commandId, TimeSpan.FromSeconds(waitSeconds), cancellationToken);

    public Task<KillResponse> KillAsync(string agentId, KillRequest request, CancellationToken cancellationToken) =>
        AuditedAsync("kill_agent", caller => commands.KillAsync(caller, agentId, request, cancellationToken));

    public Task<TopologyView> GetTopologyAsync(CancellationToken cancellationToken) =>
        agents.GetTopologyAsync(Caller, null, null, cancellationToken);

    public async Task<IReadOnlyList<EventView>> ListEventsAsync(long since, int limit, CancellationToken cancellationToken)
    {
        var caller = Caller;
        var after = await events.StartAsync(caller, null, since, cancellationToken);
        return await events.ListAsync(caller, null, after, limit, cancellationToken);
    }

    public async IAsyncEnumerable<EventView> WatchEventsAsync(long since, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var caller = Caller;
        var after = await events.StartAsync(caller, null, since, cancellationToken);
        await foreach (var frame in events.WatchAsync(caller, null, after, cancellationToken))
        {
            switch (frame)
            {
                case EventStreamFrame.Event e:
                    yield return e.View;
                    break;
                case EventStreamFrame.End end:
                    throw MeshException.Unauthorized(end.View.Code, end.View.Reason ?? "The key stopped being valid during the watch.");
            }
        }
    }

    public Task<LogTailView> TailLogsAsync(string agentId, int tail, CancellationToken cancellationToken) =>
        logs.TailAsync(Caller, agentId, null, tail, cancellationToken);

    public Task<UsageView> GetUsageAsync(string agentId, bool tree, CancellationToken cancellationToken) =>
        agents.GetUsageAsync(Caller, agentId, null, tree, cancellationToken);

    public Task<CreatedKeyView> CreateKeyAsync(CreateKeyRequest request, CancellationToken cancellationToken) =>
        AuditedAsync("create_session_key", caller => keys.CreateAsync(caller, request, cancellationToken));

    /// <summary>
    /// Runs a mutation with an audit draft open, as <see cref="AuditMiddleware"/> does for an API call: a write that commits
    /// carries its entry; a refusal is recorded after, with its code.
    /// </summary>
    private async Task<T> AuditedAsync<T>(string tool, Func<MeshCaller, Task<T>> mutation)
    {
        var caller = Caller;
        var draft = new AuditDraft(caller.KeyId, caller.Cluster, "MCP", "/mcp/tools/" + tool, time.GetUtcNow(), StatusCodes.Status200OK);
        var outer = MeshAudit.Current;
        MeshAudit.Current = draft;
        try
        {
            var result = await mutation(caller);
            await RecordAsync(draft, StatusCodes.Status200OK, null);
            return result;
        }
        catch (MeshException ex)
        {
            await RecordAsync(draft, MeshErrorMapping.StatusOf(ex.Kind), ex.Code);
            throw;
        }
        finally
        {
            MeshAudit.Current = outer;
        }
    }

    private async Task RecordAsync(AuditDraft draft, int status, string? code)
    {
        if (!draft.Written)
        {
            await audit.EnqueueAsync(draft.ToRecord() with { Status = status, Code = code }, CancellationToken.None);
        }
    }
}
