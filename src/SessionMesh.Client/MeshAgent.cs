using System.Runtime.CompilerServices;
using System.Text.Json;
using SessionMesh.Contracts;
using SessionMesh.Model;

namespace SessionMesh.Client;

/// <summary>
/// A live agent on the mesh: joins, heartbeats at a fraction of the TTL, holds the command stream open
/// (resuming after a drop with <c>Last-Event-ID</c>), hands out commands as an <see cref="IAsyncEnumerable{T}"/>,
/// and turns a kill into a cancelled <see cref="Killed"/> token. When the session ends under it (410) it
/// joins again, unless the mesh killed or superseded it.
/// </summary>
/// <example>
/// <code>
/// await using var agent = await MeshAgent.JoinAsync(client, new MeshAgentOptions { AgentId = "worker-1", Ttl = 30 }, ct);
/// await foreach (var command in agent.ReadCommandsAsync(ct))
/// {
///     Console.WriteLine(command.Direction);
///     await agent.AckAsync(command, cancellationToken: ct);
/// }
/// // The loop ends when the agent is killed: agent.Killed is cancelled, agent.KillCommand says why.
/// </code>
/// </example>
public sealed class MeshAgent : IAsyncDisposable
{
    private readonly SessionMeshClient _client;
    private readonly MeshAgentOptions _options;
    private readonly CancellationTokenSource _ended = new();
    private readonly CancellationTokenSource _disposing = new();
    private readonly SemaphoreSlim _sessionLock = new(1, 1);
    private SessionView _session;
    private Task _heartbeats = Task.CompletedTask;
    private long? _lastSequence;
    private bool _left;
    private volatile bool _killAcked;

    private MeshAgent(SessionMeshClient client, MeshAgentOptions options, SessionView session)
    {
        _client = client;
        _options = options;
        _session = session;
    }

    /// <summary>The agent's id.</summary>
    public string AgentId => _options.AgentId;

    /// <summary>The current session (a new one after a rejoin).</summary>
    public SessionView Session => Volatile.Read(ref _session);

    /// <summary>Cancelled when the agent must stop: killed by the mesh, or its session superseded by another join.</summary>
    public CancellationToken Killed => _ended.Token;

    /// <summary>The kill command, when a kill arrived over the stream.</summary>
    public CommandView? KillCommand { get; private set; }

    /// <summary>Why <see cref="Killed"/> was cancelled: <c>killed</c>, <c>superseded</c>, or the kill's reason.</summary>
    public string? EndReason { get; private set; }

    /// <summary>Load (0..1) reported with the next heartbeat.</summary>
    public double? Load { get; set; }

    /// <summary>Report the agent idle (true) or active with the next heartbeat.</summary>
    public bool Idle { get; set; }

    /// <summary>
    /// Progress reported with the next heartbeat: cumulative counters (they only grow) and the current activity. Set it
    /// as work advances; <see cref="ReportProgressAsync"/> sends it at once.
    /// </summary>
    public AgentProgress? Progress { get; set; }

    /// <summary>Raised with the new session after the agent joined again.</summary>
    public event EventHandler<SessionView>? Rejoined;

    /// <summary>Joins the mesh and starts heartbeating.</summary>
    public static async Task<MeshAgent> JoinAsync(SessionMeshClient client, MeshAgentOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        var session = await client.JoinAsync(options.ToJoinRequest(), cancellationToken);
        var agent = new MeshAgent(client, options, session);
        agent._heartbeats = Task.Run(() => agent.HeartbeatLoopAsync(agent._disposing.Token), CancellationToken.None);
        return agent;
    }

    /// <summary>
    /// The agent's commands, in order, each once (duplicates of at-least-once delivery are dropped). The
    /// stream is reopened after a drop, resuming after the last sequence seen. Kill commands are not
    /// yielded: they cancel <see cref="Killed"/> and end the enumeration, acked at once unless
    /// <see cref="MeshAgentOptions.AckKillOnArrival"/> is false (then the caller acks <see cref="KillCommand"/>).
    /// </summary>
    public async IAsyncEnumerable<CommandView> ReadCommandsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _ended.Token, _disposing.Token);
        var token = linked.Token;
        var drops = 0;
        while (!token.IsCancellationRequested)
        {
            var sessionId = Session.SessionId;
            var stream = _client.StreamCommandFramesAsync(AgentId, _lastSequence, token).GetAsyncEnumerator(token);
            try
            {
                while (true)
                {
                    bool hasNext;
                    try
                    {
                        hasNext = await stream.MoveNextAsync();
                    }
                    catch (OperationCanceledException) when (token.IsCancellationRequested)
                    {
                        break;
                    }
                    catch (SessionMeshException ex) when (ex.Status is 404 or 409 or 410)
                    {
                        await OnSessionEndedAsync(sessionId, token);
                        break;
                    }
                    catch (Exception ex) when (ex is SessionMeshConnectionException || SessionMeshClient.IsStreamDrop(ex, token))
                    {
                        break;
                    }
                    if (!hasNext)
                    {
                        break;
                    }
                    if (stream.Current.End is { Code: "key_revoked" or "key_expired" })
                    {
                        // The key stopped being valid, not the session: reconnecting mints a new key when a way to is
                        // configured, else fails with the 401.
                        break;
                    }
                    if (stream.Current.End is { } end)
                    {
                        // The session ended under the stream: killed or superseded ends the agent, anything else rejoins.
                        await OnSessionEndedAsync(end.SessionId, token, end);
                        break;
                    }
                    if (stream.Current.Command is not { } command)
                    {
                        continue;
                    }
                    if (_lastSequence is { } last && command.Sequence <= last)
                    {
                        continue;
                    }
                    _lastSequence = command.Sequence;
                    drops = 0;
                    if (command.Kind == "kill")
                    {
                        await OnKillAsync(command, token);
                        yield break;
                    }
                    yield return command;
                }
            }
            finally
            {
                await DisposeQuietlyAsync(stream);
            }
            if (token.IsCancellationRequested)
            {
                break;
            }
            try
            {
                await Task.Delay(_client.ReconnectDelay(drops++), _client.TimeProvider, token);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        cancellationToken.ThrowIfCancellationRequested();
    }

    /// <summary>Acks a command: <c>acked</c> (default), <c>rejected</c> or <c>failed</c>, with an optional result.</summary>
    public async Task<CommandView> AckAsync(CommandView command, string status = "acked", JsonElement? result = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(command);
        var acked = await _client.AckAsync(AgentId, command.CommandId, new AckRequest { Status = status, Result = result }, cancellationToken);
        if (command.CommandId == KillCommand?.CommandId)
        {
            _killAcked = true;
        }
        return acked;
    }

    /// <summary>Sends a heartbeat now (the helper also does so on its own schedule).</summary>
    public async Task HeartbeatAsync(CancellationToken cancellationToken = default)
    {
        var session = Session;
        try
        {
            await _client.HeartbeatAsync(session.SessionId, new HeartbeatRequest { Load = Load, Status = Idle ? "idle" : "active", Progress = Progress }, cancellationToken);
        }
        catch (SessionMeshException ex) when (ex.Status is 404 or 410)
        {
            await OnSessionEndedAsync(session.SessionId, cancellationToken);
        }
    }

    /// <summary>Sets <see cref="Progress"/> and reports it now, with a heartbeat.</summary>
    public Task ReportProgressAsync(AgentProgress progress, CancellationToken cancellationToken = default)
    {
        Progress = progress;
        return HeartbeatAsync(cancellationToken);
    }

    /// <summary>Leaves the mesh: the session ends <c>left</c>. Idempotent.</summary>
    public Task LeaveAsync(CancellationToken cancellationToken = default) => LeaveAsync(null, cancellationToken);

    /// <summary>Leaves the mesh with the exit code of the agent's process, shown in its session. Idempotent.</summary>
    public async Task LeaveAsync(int? exitCode, CancellationToken cancellationToken = default)
    {
        if (_left)
        {
            return;
        }
        _left = true;
        await _disposing.CancelAsync();
        await AwaitQuietlyAsync(_heartbeats);
        try
        {
            await _client.LeaveAsync(Session.SessionId, exitCode, cancellationToken);
        }
        catch (SessionMeshException ex) when (ex.Status is 404 or 410)
        {
            // Already ended (killed, expired): nothing to leave.
        }
    }

    /// <summary>Stops heartbeating and leaves, if not done already.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(_client.Options.RequestTimeout);
            await LeaveAsync(timeout.Token);
        }
        catch (Exception ex) when (ex is SessionMeshException or SessionMeshConnectionException or OperationCanceledException)
        {
            // Best effort: the lease expires on its own.
        }
        _ended.Dispose();
        _disposing.Dispose();
        _sessionLock.Dispose();
    }

    private async Task HeartbeatLoopAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var interval = TimeSpan.FromSeconds(Math.Max(0.05, Session.Ttl * _options.HeartbeatFraction));
            try
            {
                await Task.Delay(interval, _client.TimeProvider, stop);
                await HeartbeatAsync(stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is SessionMeshException or SessionMeshConnectionException or OperationCanceledException)
            {
                // A missed beat; the lease tolerates a couple. The next tick tries again.
            }
            if (_ended.IsCancellationRequested && !AwaitingKillAck)
            {
                return;
            }
        }
    }

    /// <summary>A kill arrived that the caller acks itself: the session must stay alive until then.</summary>
    private bool AwaitingKillAck => KillCommand is not null && !_options.AckKillOnArrival && !_killAcked;

    private async Task OnKillAsync(CommandView command, CancellationToken cancellationToken)
    {
        KillCommand = command;
        if (!_options.AckKillOnArrival)
        {
            await EndAsync(command.Reason ?? "killed");
            return;
        }
        try
        {
            await AckAsync(command, "acked", null, cancellationToken);
        }
        catch (Exception ex) when (ex is SessionMeshException or SessionMeshConnectionException or OperationCanceledException)
        {
            // The kill stands whether or not the ack got through.
        }
        await EndAsync(command.Reason ?? "killed");
    }

    private async Task OnSessionEndedAsync(string endedSessionId, CancellationToken cancellationToken, StreamEnd? end = null)
    {
        await _sessionLock.WaitAsync(cancellationToken);
        try
        {
            if (Session.SessionId != endedSessionId || _ended.IsCancellationRequested || _left)
            {
                return;
            }
            var status = end?.Status;
            var reason = end?.Reason;
            if (end is null)
            {
                try
                {
                    var ended = await _client.GetSessionAsync(endedSessionId, cancellationToken);
                    (status, reason) = (ended.Status, ended.EndReason);
                }
                catch (SessionMeshException)
                {
                    // Unknown now: treat it as expired.
                }
            }
            if (status is SessionStatus.Killed or SessionStatus.Superseded || !_options.Rejoin)
            {
                await EndAsync(reason ?? status?.ToWire() ?? "ended");
                return;
            }
            var session = await _client.JoinAsync(_options.ToJoinRequest(), cancellationToken);
            Volatile.Write(ref _session, session);
            Rejoined?.Invoke(this, session);
        }
        finally
        {
            _sessionLock.Release();
        }
    }

    private async Task EndAsync(string reason)
    {
        EndReason ??= reason;
        await _ended.CancelAsync();
    }

    private static async Task DisposeQuietlyAsync(IAsyncEnumerator<CommandFrame> stream)
    {
        try
        {
            await stream.DisposeAsync();
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException or OperationCanceledException)
        {
            // The connection is gone either way.
        }
    }

    private static async Task AwaitQuietlyAsync(Task task)
    {
        try
        {
            await task;
        }
        catch (OperationCanceledException)
        {
            // Stopped as asked.
        }
    }
}
