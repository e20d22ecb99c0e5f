using System.Net;
using System.Runtime.CompilerServices;
using SessionMesh.Client.Http;
using SessionMesh.Contracts;
using SessionMesh.Model;

namespace SessionMesh.Client;

/// <summary>
/// A typed client for every endpoint of the session-mesh API. Transient failures (connection errors, 5xx,
/// 429 honouring <c>Retry-After</c>) are retried with exponential backoff and jitter; a refused key is
/// refreshed once when <see cref="SessionMeshClientOptions.KeyRefresh"/> or <see cref="SessionMeshClientOptions.MintingKey"/>
/// is set. Errors surface as <see cref="SessionMeshException"/> (the server answered) or
/// <see cref="SessionMeshConnectionException"/> (it could not be reached).
/// </summary>
public sealed partial class SessionMeshClient : IDisposable
{
    private readonly MeshTransport _transport;

    /// <summary>Creates a client.</summary>
    public SessionMeshClient(SessionMeshClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        _transport = new MeshTransport(options);
        _transport.KeyRefreshed += key => KeyRefreshed?.Invoke(this, key);
    }

    /// <summary>Creates a client for <paramref name="server"/> with <paramref name="sessionKey"/> and default retries.</summary>
    public SessionMeshClient(Uri server, string? sessionKey)
        : this(new SessionMeshClientOptions { Server = server, SessionKey = sessionKey })
    {
    }

    /// <summary>Raised with the new secret after a 401 led to a fresh key.</summary>
    public event EventHandler<string>? KeyRefreshed;

    /// <summary>The options the client was created with.</summary>
    public SessionMeshClientOptions Options { get; }

    /// <summary>The key in use now (it changes after a refresh).</summary>
    public string? SessionKey
    {
        get => _transport.CurrentKey;
        set => _transport.SetKey(value);
    }

    /// <summary>
    /// The server requests go to now: <see cref="SessionMeshClientOptions.Server"/>, or the replica of
    /// <see cref="SessionMeshClientOptions.FailoverServers"/> the client moved to when the one before could not be reached.
    /// </summary>
    public Uri Server => _transport.Server;

    internal TimeProvider TimeProvider => _transport.TimeProvider;

    /// <inheritdoc />
    public void Dispose() => _transport.Dispose();

    // ---- discovery ------------------------------------------------------------------------------

    /// <summary><c>GET /alive</c>: sessions by status filter (default <c>alive</c>), one page.</summary>
    public Task<Page<SessionView>> ListAliveAsync(AliveQuery? query = null, CancellationToken cancellationToken = default)
    {
        query ??= new AliveQuery();
        var path = new MeshQuery("alive")
            .Add("filter", query.Filter)
            .Add("specialization", query.Specialization)
            .AddEach("label", query.Labels)
            .Add("parent_id", query.ParentId)
            .Add("agent_id", query.AgentId)
            .Add("cluster", query.Cluster)
            .Add("limit", query.Limit)
            .Add("cursor", query.Cursor);
        return GetAsync(path.ToString(), MeshJsonContext.Default.PageSessionView, cancellationToken);
    }

    /// <summary><c>GET /alive</c>, following <c>next_cursor</c> through every page.</summary>
    public IAsyncEnumerable<SessionView> ListAllAliveAsync(AliveQuery? query = null, CancellationToken cancellationToken = default) =>
        AllPagesAsync(cursor => ListAliveAsync((query ?? new AliveQuery()) with { Cursor = cursor }, cancellationToken), cancellationToken);

    /// <summary><c>GET /agents</c>: one page of agents.</summary>
    public Task<Page<AgentView>> ListAgentsAsync(int? limit = null, string? cursor = null, CancellationToken cancellationToken = default) =>
        GetAsync(new MeshQuery("agents").Add("limit", limit).Add("cursor", cursor).ToString(), MeshJsonContext.Default.PageAgentView, cancellationToken);

    /// <summary><c>GET /agents</c>, every page.</summary>
    public IAsyncEnumerable<AgentView> ListAllAgentsAsync(CancellationToken cancellationToken = default) =>
        AllPagesAsync(cursor => ListAgentsAsync(null, cursor, cancellationToken), cancellationToken);

    /// <summary><c>GET /agents/{agent_id}</c>: the agent with its open session, specializations and children.</summary>
    public Task<AgentView> GetAgentAsync(string agentId, CancellationToken cancellationToken = default) =>
        GetAsync($"agents/{MeshQuery.Segment(agentId)}", MeshJsonContext.Default.AgentView, cancellationToken);

    /// <summary>
    /// <c>PUT /agents/{agent_id}</c>: declares an agent before it joins, or sets its parent and labels.
    /// Created is true when the agent is new. Safe to retry: the same declaration twice changes nothing.
    /// </summary>
    public async Task<(AgentView Agent, bool Created)> DeclareAgentAsync(string agentId, DeclareAgentRequest request, CancellationToken cancellationToken = default)
    {
        var (agent, status) = await _transport.SendWithStatusAsync(
            HttpMethod.Put, $"agents/{MeshQuery.Segment(agentId)}", request, MeshJsonContext.Default.DeclareAgentRequest, MeshJsonContext.Default.AgentView,
            new MeshCallOptions { Retryable = true }, cancellationToken);
        return (agent, status == HttpStatusCode.Created);
    }

    /// <summary><c>GET /agents/{agent_id}/tree</c>: the agent and its sub-agents, recursively.</summary>
    public Task<AgentTreeNode> GetAgentTreeAsync(string agentId, CancellationToken cancellationToken = default) =>
        GetAsync($"agents/{MeshQuery.Segment(agentId)}/tree", MeshJsonContext.Default.AgentTreeNode, cancellationToken);

    /// <summary><c>GET /topology?format=json</c>.</summary>
    public Task<TopologyView> GetTopologyAsync(CancellationToken cancellationToken = default) =>
        GetAsync("topology?format=json", MeshJsonContext.Default.TopologyView, cancellationToken);

    /// <summary><c>GET /agents/{agent_id}/usage</c>: usage, own and rolled up, against the budget; with <paramref name="tree"/>, per descendant.</summary>
    public Task<UsageView> GetUsageAsync(string agentId, bool tree = false, CancellationToken cancellationToken = default) =>
        GetAsync(new MeshQuery($"agents/{MeshQuery.Segment(agentId)}/usage").Add("tree", tree ? "true" : null).ToString(), MeshJsonContext.Default.UsageView, cancellationToken);

    /// <summary><c>GET /topology?format=dot|mermaid</c> as text.</summary>
    public Task<string> GetTopologyTextAsync(string format, CancellationToken cancellationToken = default) =>
        _transport.GetTextAsync(new MeshQuery("topology").Add("format", format).ToString(), cancellationToken);

    /// <summary><c>GET /audit</c>: one page of the audit log.</summary>
    public Task<Page<AuditView>> ListAuditAsync(int? limit = null, string? cursor = null, CancellationToken cancellationToken = default) =>
        GetAsync(new MeshQuery("audit").Add("limit", limit).Add("cursor", cursor).ToString(), MeshJsonContext.Default.PageAuditView, cancellationToken);

    // ---- registry -------------------------------------------------------------------------------

    /// <summary><c>POST /registry</c>: registers a specialization; an agent that never joined is created, not alive.</summary>
    public async Task<RegistrationResult> RegisterAsync(RegisterRequest request, CancellationToken cancellationToken = default)
    {
        // Registering the same thing twice is a no-op (200), so a retried registration is safe.
        var (entry, status) = await _transport.SendWithStatusAsync(
            HttpMethod.Post, "registry", request, MeshJsonContext.Default.RegisterRequest, MeshJsonContext.Default.RegistryEntry,
            new MeshCallOptions { Retryable = true }, cancellationToken);
        return new RegistrationResult(entry, status == HttpStatusCode.Created);
    }

    /// <summary><c>GET /registry?specialization=X</c>: agents with X, alive first, least loaded first.</summary>
    public Task<Page<RegistryEntry>> ListRegistryAsync(string? specialization, bool? alive = null, int? limit = null, string? cursor = null, CancellationToken cancellationToken = default) =>
        GetAsync(
            new MeshQuery("registry").Add("specialization", specialization).Add("alive", alive).Add("limit", limit).Add("cursor", cursor).ToString(),
            MeshJsonContext.Default.PageRegistryEntry, cancellationToken);

    /// <summary><c>GET /registry/specializations</c>: every specialization with its agent counts.</summary>
    public Task<Page<SpecializationSummary>> ListSpecializationsAsync(int? limit = null, string? cursor = null, CancellationToken cancellationToken = default) =>
        GetAsync(
            new MeshQuery("registry/specializations").Add("limit", limit).Add("cursor", cursor).ToString(),
            MeshJsonContext.Default.PageSpecializationSummary, cancellationToken);

    /// <summary><c>DELETE /registry/{agent_id}/{specialization}</c>.</summary>
    public Task<UnregisterResponse> UnregisterAsync(string agentId, string specialization, CancellationToken cancellationToken = default) =>
        SendNoBodyAsync(HttpMethod.Delete, $"registry/{MeshQuery.Segment(agentId)}/{MeshQuery.Segment(specialization)}", MeshJsonContext.Default.UnregisterResponse, cancellationToken);

    // ---- steering and killing -------------------------------------------------------------------

    /// <summary>
    /// <c>POST /steer</c>. An <c>Idempotency-Key</c> is always sent (generated when not given), so a retried
    /// steer never queues a second command.
    /// </summary>
    public Task<CommandView> SteerAsync(SteerRequest request, string? idempotencyKey = null, CancellationToken cancellationToken = default) =>
        _transport.SendAsync(
            HttpMethod.Post, "steer", request, MeshJsonContext.Default.SteerRequest, MeshJsonContext.Default.CommandView,
            new MeshCallOptions { IdempotencyKey = idempotencyKey ?? MeshTransport.NewIdempotencyKey() }, cancellationToken);

    /// <summary><c>POST /agents/{agent_id}/messages</c>, with an <c>Idempotency-Key</c> like <see cref="SteerAsync"/>.</summary>
    public Task<CommandView> SendMessageAsync(string agentId, MessageRequest request, string? idempotencyKey = null, CancellationToken cancellationToken = default) =>
        _transport.SendAsync(
            HttpMethod.Post, $"agents/{MeshQuery.Segment(agentId)}/messages", request, MeshJsonContext.Default.MessageRequest, MeshJsonContext.Default.CommandView,
            new MeshCallOptions { IdempotencyKey = idempotencyKey ?? MeshTransport.NewIdempotencyKey() }, cancellationToken);

    /// <summary><c>DELETE /agents/{agent_id}</c>: kill the agent (and, by default, its sub-agents).</summary>
    public Task<KillResponse> KillAsync(string agentId, KillOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new KillOptions();
        var path = new MeshQuery($"agents/{MeshQuery.Segment(agentId)}")
            .Add("force", options.Force)
            .Add("cascade", options.Cascade)
            .Add("grace_period", options.GracePeriod)
            .Add("reason", options.Reason);
        return SendNoBodyAsync(HttpMethod.Delete, path.ToString(), MeshJsonContext.Default.KillResponse, cancellationToken);
    }

    /// <summary><c>GET /commands/{command_id}</c>: where a command stands.</summary>
    public Task<CommandView> GetCommandAsync(string commandId, CancellationToken cancellationToken = default) =>
        GetAsync($"commands/{MeshQuery.Segment(commandId)}", MeshJsonContext.Default.CommandView, cancellationToken);

    /// <summary>
    /// <c>GET /commands/{command_id}?wait=</c>: waits up to <paramref name="waitSeconds"/> (0..300) for the command to be
    /// acked, rejected, failed or expired, and returns where it stands then.
    /// </summary>
    public Task<CommandView> GetCommandAsync(string commandId, int? waitSeconds, CancellationToken cancellationToken = default)
    {
        var path = new MeshQuery($"commands/{MeshQuery.Segment(commandId)}").Add("wait", waitSeconds);
        var call = new MeshCallOptions { Timeout = Options.RequestTimeout + TimeSpan.FromSeconds(waitSeconds ?? 0) };
        return _transport.SendAsync<object, CommandView>(HttpMethod.Get, path.ToString(), null, null, MeshJsonContext.Default.CommandView, call, cancellationToken);
    }

    /// <summary><c>GET /events?since=</c> without streaming: one page of events after <paramref name="since"/>, oldest first.</summary>
    public Task<Page<EventView>> ListEventsAsync(long? since = null, int? limit = null, CancellationToken cancellationToken = default) =>
        GetAsync(new MeshQuery("events").Add("since", since).Add("limit", limit).ToString(), MeshJsonContext.Default.PageEventView, cancellationToken);

    // ---- keys -----------------------------------------------------------------------------------

    /// <summary><c>POST /keys</c>: mint a key (or rotate one); the secret is in the answer only.</summary>
    public Task<CreatedKeyView> CreateKeyAsync(CreateKeyRequest request, string? idempotencyKey = null, CancellationToken cancellationToken = default) =>
        _transport.SendAsync(
            HttpMethod.Post, "keys", request, MeshJsonContext.Default.CreateKeyRequest, MeshJsonContext.Default.CreatedKeyView,
            new MeshCallOptions { IdempotencyKey = idempotencyKey ?? MeshTransport.NewIdempotencyKey() }, cancellationToken);

    /// <summary><c>GET /keys</c>: one page of keys (never their secrets).</summary>
    public Task<Page<KeyView>> ListKeysAsync(int? limit = null, string? cursor = null, CancellationToken cancellationToken = default) =>
        GetAsync(new MeshQuery("keys").Add("limit", limit).Add("cursor", cursor).ToString(), MeshJsonContext.Default.PageKeyView, cancellationToken);

    /// <summary><c>GET /keys</c>, every page.</summary>
    public IAsyncEnumerable<KeyView> ListAllKeysAsync(CancellationToken cancellationToken = default) =>
        AllPagesAsync(cursor => ListKeysAsync(null, cursor, cancellationToken), cancellationToken);

    /// <summary><c>GET /keys/self</c>: the key this client authenticates with.</summary>
    public Task<KeyView> GetSelfKeyAsync(CancellationToken cancellationToken = default) =>
        GetAsync("keys/self", MeshJsonContext.Default.KeyView, cancellationToken);

    /// <summary><c>DELETE /keys/{key_id}</c>: revoke.</summary>
    public Task<KeyView> RevokeKeyAsync(string keyId, CancellationToken cancellationToken = default) =>
        SendNoBodyAsync(HttpMethod.Delete, $"keys/{MeshQuery.Segment(keyId)}", MeshJsonContext.Default.KeyView, cancellationToken);

    // ---- sessions -------------------------------------------------------------------------------

    /// <summary><c>POST /sessions</c>: join. Prefer <see cref="MeshAgent"/>, which also heartbeats and reads commands.</summary>
    public Task<SessionView> JoinAsync(JoinRequest request, CancellationToken cancellationToken = default) =>
        // A repeated join supersedes the first, leaving the agent with exactly one open session: safe to retry.
        _transport.SendAsync(
            HttpMethod.Post, "sessions", request, MeshJsonContext.Default.JoinRequest, MeshJsonContext.Default.SessionView,
            new MeshCallOptions { Retryable = true }, cancellationToken);

    /// <summary><c>POST /sessions/{session_id}/heartbeat</c>; a 410 means the session ended (stop or rejoin).</summary>
    public Task<HeartbeatResponse> HeartbeatAsync(string sessionId, HeartbeatRequest? request = null, CancellationToken cancellationToken = default) =>
        _transport.SendAsync(
            HttpMethod.Post, $"sessions/{MeshQuery.Segment(sessionId)}/heartbeat", request ?? new HeartbeatRequest(),
            MeshJsonContext.Default.HeartbeatRequest, MeshJsonContext.Default.HeartbeatResponse,
            new MeshCallOptions { Retryable = true }, cancellationToken);

    /// <summary><c>POST /sessions/{session_id}/progress</c>: counters and activity, renewing the lease; a 410 means the session ended.</summary>
    public Task<HeartbeatResponse> ReportProgressAsync(string sessionId, AgentProgress progress, CancellationToken cancellationToken = default) =>
        _transport.SendAsync(
            HttpMethod.Post, $"sessions/{MeshQuery.Segment(sessionId)}/progress", progress,
            MeshJsonContext.Default.AgentProgress, MeshJsonContext.Default.HeartbeatResponse,
            new MeshCallOptions { Retryable = true }, cancellationToken);

    /// <summary><c>DELETE /sessions/{session_id}</c>: leave.</summary>
    public Task<SessionView> LeaveAsync(string sessionId, CancellationToken cancellationToken = default) =>
        LeaveAsync(sessionId, null, cancellationToken);

    /// <summary><c>DELETE /sessions/{session_id}?exit_code=N</c>: leave, recording the exit code of the agent's process.</summary>
    public Task<SessionView> LeaveAsync(string sessionId, int? exitCode, CancellationToken cancellationToken = default) =>
        SendNoBodyAsync(HttpMethod.Delete, new MeshQuery($"sessions/{MeshQuery.Segment(sessionId)}").Add("exit_code", exitCode).ToString(), MeshJsonContext.Default.SessionView, cancellationToken);

    /// <summary><c>GET /sessions/{session_id}</c>.</summary>
    public Task<SessionView> GetSessionAsync(string sessionId, CancellationToken cancellationToken = default) =>
        GetAsync($"sessions/{MeshQuery.Segment(sessionId)}", MeshJsonContext.Default.SessionView, cancellationToken);

    // ---- commands (the agent side) --------------------------------------------------------------

    /// <summary><c>GET /agents/{agent_id}/commands?wait=</c>: long poll for pending commands.</summary>
    public Task<Page<CommandView>> PollCommandsAsync(string agentId, int? waitSeconds = null, string? cursor = null, CancellationToken cancellationToken = default)
    {
        var path = new MeshQuery($"agents/{MeshQuery.Segment(agentId)}/commands").Add("wait", waitSeconds).Add("cursor", cursor);
        var call = new MeshCallOptions { Timeout = Options.RequestTimeout + TimeSpan.FromSeconds(waitSeconds ?? 0) };
        return _transport.SendAsync<object, Page<CommandView>>(HttpMethod.Get, path.ToString(), null, null, MeshJsonContext.Default.PageCommandView, call, cancellationToken);
    }

    /// <summary><c>POST /agents/{agent_id}/commands/{command_id}/ack</c>.</summary>
    public Task<CommandView> AckAsync(string agentId, string commandId, AckRequest request, CancellationToken cancellationToken = default) =>
        // Acking twice leaves the command where the first ack put it: safe to retry.
        _transport.SendAsync(
            HttpMethod.Post, $"agents/{MeshQuery.Segment(agentId)}/commands/{MeshQuery.Segment(commandId)}/ack", request,
            MeshJsonContext.Default.AckRequest, MeshJsonContext.Default.CommandView,
            new MeshCallOptions { Retryable = true }, cancellationToken);

    private Task<T> GetAsync<T>(string path, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> info, CancellationToken cancellationToken) =>
        _transport.SendAsync<object, T>(HttpMethod.Get, path, null, null, info, null, cancellationToken);

    private Task<T> SendNoBodyAsync<T>(HttpMethod method, string path, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> info, CancellationToken cancellationToken) =>
        _transport.SendAsync<object, T>(method, path, null, null, info, null, cancellationToken);

    private static async IAsyncEnumerable<T> AllPagesAsync<T>(Func<string?, Task<Page<T>>> fetch, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string? cursor = null;
        do
        {
            cancellationToken.ThrowIfCancellationRequested();
            var page = await fetch(cursor);
            foreach (var item in page.Items)
            {
                yield return item;
            }
            cursor = page.NextCursor;
        }
        while (cursor is not null);
    }
}
