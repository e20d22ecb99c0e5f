using System.Runtime.CompilerServices;
using SessionMesh.Contracts;
using SessionMesh.Model;
using SessionMesh.Security;

namespace SessionMesh.Mesh;

/// <summary>
/// Opens an agent's command stream: the one reader of commands for SSE, long poll, the client's agent helper, MCP
/// and the agent wrapper.
/// </summary>
public sealed class CommandStream(MeshRuntime mesh, SessionService sessions, CommandService commands)
{
    /// <summary>Raised with the commands handed to an agent, for the delivery-latency metric.</summary>
    public event Action<IReadOnlyList<CommandRecord>>? Delivered;

    /// <summary>
    /// Checks the caller may read the agent's stream and that the agent has an open session (409 when not), and returns
    /// a reader positioned after <paramref name="afterSequence"/>.
    /// </summary>
    public async Task<CommandStreamReader> OpenAsync(MeshCaller caller, string agentId, string? cluster, long afterSequence, CancellationToken cancellationToken)
    {
        Validate.AgentId(agentId);
        var resolved = caller.ResolveCluster(cluster);
        caller.RequireActingFor(agentId);
        if (afterSequence < 0)
        {
            throw MeshException.Invalid("after", "'after' must be a sequence number (0 or more).");
        }
        if (await mesh.Store.GetAgentAsync(resolved, agentId, cancellationToken) is null)
        {
            throw MeshException.AgentNotFound(agentId);
        }
        var open = mesh.Leases.Overlay(await mesh.Store.GetOpenSessionsAsync(resolved, [agentId], cancellationToken));
        var session = open.FirstOrDefault(s => s.StatusAt(mesh.Now()) != SessionStatus.Expired)
            ?? throw MeshException.Conflict("agent_not_alive", $"Agent '{agentId}' has no open session: join first (POST /sessions), then open its command stream.");
        return new CommandStreamReader(mesh, sessions, commands, this, new KeyValidity(mesh, caller), session, afterSequence);
    }

    internal void OnDelivered(IReadOnlyList<CommandRecord> delivered)
    {
        if (delivered.Count > 0)
        {
            Delivered?.Invoke(delivered);
        }
    }
}

/// <summary>
/// One agent's command stream from a cursor: pending commands first, then each new one as it is queued; the lease
/// renewed every third of the TTL (at most every 15 s) while it is read; and an end when the session ends or the
/// key that opened it is revoked or expires.
/// </summary>
public sealed class CommandStreamReader
{
    private readonly MeshRuntime _mesh;
    private readonly SessionService _sessions;
    private readonly CommandService _commands;
    private readonly CommandStream _owner;
    private readonly KeyValidity _key;
    private readonly string _agentKey;
    private bool _readStore = true;

    internal CommandStreamReader(MeshRuntime mesh, SessionService sessions, CommandService commands, CommandStream owner, KeyValidity key, SessionRecord session, long after)
    {
        _mesh = mesh;
        _sessions = sessions;
        _commands = commands;
        _owner = owner;
        _key = key;
        Session = session;
        After = after;
        _agentKey = SignalKeys.Agent(session.Cluster, session.AgentId);
    }

    /// <summary>The session the stream belongs to.</summary>
    public SessionRecord Session { get; }

    /// <summary>The sequence of the last command handed out (the cursor).</summary>
    public long After { get; private set; }

    /// <summary>
    /// The frames of the stream until it ends or <paramref name="cancellationToken"/> fires. While it is read, the
    /// agent counts as listening (a steer waits briefly for the push).
    /// </summary>
    public async IAsyncEnumerable<CommandStreamFrame> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var waiter = new StreamWaiter(_mesh.Time, cancellationToken);
        // Attached before the first read of the store: a command queued from here on wakes the next wait at the latest.
        using var listening = _mesh.Signals.Listen(_agentKey, waiter.Wake);
        using var inbox = OpenInbox();
        MeshLog.StreamAttached(_mesh.Logger, Session.Cluster, Session.AgentId, Session.SessionId);
        try
        {
            var renewEvery = TimeSpan.FromSeconds(Math.Clamp(Session.Ttl / 3.0, 0.5, 15));
            var nextRenewal = _mesh.Time.GetUtcNow();
            while (!cancellationToken.IsCancellationRequested)
            {
                waiter.WakeOn(_key.Revoked());
                if (await _key.CheckAsync(cancellationToken) is { } invalid)
                {
                    var current = await _mesh.Leases.CurrentAsync(Session.SessionId, cancellationToken) ?? Session;
                    yield return End(current, invalid.Code, invalid.Reason);
                    yield break;
                }
                var delivered = await DeliverAsync(inbox, MeshLimits.DefaultPageSize, cancellationToken);
                var fullPage = delivered.Count == MeshLimits.DefaultPageSize;
                for (var i = 0; i < delivered.Count; i++)
                {
                    yield return new CommandStreamFrame.Command(MeshViews.Command(delivered[i]));
                }
                // The iterator keeps its locals in fields across the wait below: what a wake-up read is let go of
                // before it, or it would live until the agent's next command (seconds, with a fleet) and reach gen2.
                delivered = [];
                if (fullPage)
                {
                    continue;
                }

                // From memory while the session is open: a stream's wake-up reads the store only for its commands.
                var session = await _mesh.Leases.CurrentAsync(Session.SessionId, cancellationToken);
                if (_mesh.Time.GetUtcNow() >= nextRenewal && session is { IsOpen: true })
                {
                    session = await _sessions.KeepAliveAsync(Session.SessionId, cancellationToken);
                    nextRenewal = _mesh.Time.GetUtcNow() + renewEvery;
                    if (session is { IsOpen: true })
                    {
                        yield return new CommandStreamFrame.Lease(MeshViews.Lease(session, _mesh.Time.GetUtcNow()));
                    }
                }
                if (session is null || !session.IsOpen)
                {
                    var ended = session ?? Session;
                    yield return End(ended, "session_ended", ended.EndReason);
                    yield break;
                }
                session = null;
                await waiter.WaitAsync(_key.Until(nextRenewal - _mesh.Time.GetUtcNow()));
            }
        }
        finally
        {
            MeshLog.StreamDetached(_mesh.Logger, Session.Cluster, Session.AgentId, Session.SessionId);
        }
    }

    /// <summary>
    /// A long poll: the commands pending now, else the next ones queued within <paramref name="wait"/>, renewing
    /// the lease as it goes. Empty when none came in time; 401 when the key stops being valid meanwhile.
    /// </summary>
    public async Task<IReadOnlyList<CommandView>> PollAsync(TimeSpan wait, int limit, CancellationToken cancellationToken)
    {
        var deadline = _mesh.Time.GetUtcNow() + wait;
        using var inbox = OpenInbox();
        using var waiter = new StreamWaiter(_mesh.Time, cancellationToken);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            waiter.WakeOn(_mesh.Signals.Next(_agentKey));
            waiter.WakeOn(_key.Revoked());
            if (await _key.CheckAsync(cancellationToken) is { } invalid)
            {
                throw MeshException.Unauthorized(invalid.Code, invalid.Reason);
            }
            await _sessions.KeepAliveAsync(Session.SessionId, cancellationToken);
            var delivered = await DeliverAsync(inbox, limit, cancellationToken, _mesh.Options.MaxPageBytes);
            var remaining = deadline - _mesh.Time.GetUtcNow();
            if (delivered.Count > 0 || remaining <= TimeSpan.Zero)
            {
                return delivered.Select(MeshViews.Command).ToList();
            }
            await waiter.WaitAsync(_key.Until(remaining));
        }
    }

    // Opened before the first read of the store, so a command committed in between is in one or the other.
    private FreshCommands.Inbox OpenInbox()
    {
        _readStore = true;
        return _mesh.Fresh.Open(Session.Cluster, Session.AgentId);
    }

    // The next commands after the cursor: from the inbox when it has them all, else from the store, which is read first,
    // after a full page and whenever the inbox cannot vouch for what follows. A long poll's page has a byte budget; the
    // SSE stream writes each command as its own frame and needs none.
    private async Task<IReadOnlyList<CommandRecord>> DeliverAsync(FreshCommands.Inbox inbox, int limit, CancellationToken cancellationToken, long maxBytes = long.MaxValue)
    {
        var fresh = _readStore ? null : inbox.TakeAfter(After, limit);
        var delivered = fresh is null
            ? await _commands.DeliverAsync(Session.Cluster, Session.AgentId, After, limit, cancellationToken, maxBytes)
            : _commands.HandOut(fresh, maxBytes);
        // The store again after a full page, and when the budget left some of the inbox's commands behind.
        _readStore = fresh is null ? delivered.Count == limit : delivered.Count < fresh.Count;
        if (delivered.Count > 0)
        {
            After = delivered[^1].Sequence;
        }
        _owner.OnDelivered(delivered);
        return delivered;
    }

    private CommandStreamFrame.End End(SessionRecord session, string code, string? reason)
    {
        MeshLog.StreamEnded(_mesh.Logger, session.Cluster, session.AgentId, session.SessionId, code);
        return new CommandStreamFrame.End(new StreamEnd
        {
            SessionId = session.SessionId,
            Status = session.EndStatus ?? (code == "session_ended" ? SessionStatus.Expired : session.StatusAt(_mesh.Time.GetUtcNow())),
            Reason = reason,
            Code = code,
        });
    }
}
