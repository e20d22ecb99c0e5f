using System.Globalization;
using SessionMesh.Contracts;
using SessionMesh.Model;
using SessionMesh.Security;
using SessionMesh.Store;

namespace SessionMesh.Mesh;

/// <summary>
/// Session-bound locks, as in Consul: a named lock of a cluster is held by one open session and released when that
/// session ends in any way (in the same write as the end, <see cref="ReleaseHeldByAsync"/>), when its holder releases
/// it, or when its own optional TTL passes (<see cref="SweepAsync"/>, on the leader). A lock whose holder's session
/// ended stays untakeable for its <c>lock_delay</c>, so a replacement does not race a half-dead predecessor. The
/// one-holder rule is the store's unique key on (cluster, name), checked inside the acquiring write.
/// </summary>
public sealed class LockService(MeshRuntime mesh)
{
    /// <summary>The longest a <c>POST /locks</c> may wait for a held lock, in seconds.</summary>
    public const int MaxWait = 300;

    /// <summary>The longest lock-delay, in seconds (Consul's bound).</summary>
    public const int MaxLockDelay = 60;

    private const int Batch = 500;

    /// <summary>
    /// How often a waiting acquire looks again without a wake-up: a release on a replica whose notification was lost,
    /// or a lock TTL that passed, is seen this late at most.
    /// </summary>
    internal static readonly TimeSpan s_recheck = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Takes a lock for an open session (<c>POST /locks</c>). Returns the lock and whether this call took it (false:
    /// the session already held it, an idempotent retry). A held lock is a 409 <c>lock_held</c> naming its holder, a
    /// lock in its lock-delay a 409 <c>lock_delay</c> with the time it ends — at once, or after waiting up to
    /// <c>wait</c> seconds for it to come free. Never holds a write while waiting.
    /// </summary>
    public async Task<(LockView Lock, bool Acquired)> AcquireAsync(MeshCaller caller, AcquireLockRequest request, CancellationToken cancellationToken)
    {
        var name = Validate.LockName(request.Name);
        var sessionId = Validate.Required(request.SessionId, "session_id");
        int? ttl = request.Ttl is null ? null : Validate.Ttl(request.Ttl, 0);
        var lockDelay = Validate.Seconds(request.LockDelay, "lock_delay", MaxLockDelay);
        var wait = Validate.Seconds(request.Wait, "wait", MaxWait);
        var metadata = Validate.Labels(request.Metadata, "metadata");
        caller.Require(MeshScopes.Agent);

        var deadline = mesh.Time.GetUtcNow().AddSeconds(wait);
        while (true)
        {
            // The signal is taken before the attempt reads, so a release between the two is not missed.
            var attempt = await TryAcquireAsync(caller, name, sessionId, ttl, lockDelay, metadata, cancellationToken);
            if (attempt.Refusal is null)
            {
                return (attempt.Lock!, attempt.Acquired);
            }
            var left = deadline - mesh.Time.GetUtcNow();
            if (left <= TimeSpan.Zero)
            {
                throw attempt.Refusal;
            }
            var until = attempt.FreeAt is { } freeAt ? freeAt - mesh.Time.GetUtcNow() : s_recheck;
            await mesh.WaitAsync(attempt.Released!, Min(left, s_recheck, until < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : until), cancellationToken);
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    /// <summary>
    /// Releases a lock (<c>DELETE /locks/{name}</c>): its holder (a key acting for the holding agent) or <c>admin</c>.
    /// A voluntary release has no lock-delay. Returns the lock as it was held.
    /// </summary>
    public async Task<LockView> ReleaseAsync(MeshCaller caller, string name, string? cluster, CancellationToken cancellationToken)
    {
        name = Validate.LockName(name);
        cluster = caller.ResolveCluster(cluster);
        caller.Require(MeshScopes.Agent);
        MeshAudit.InCluster(cluster);
        var now = mesh.Now();
        await using var tx = await mesh.Store.BeginWriteAsync(cancellationToken);
        var held = await tx.GetLockAsync(cluster, name, cancellationToken);
        if (held is not { IsHeld: true })
        {
            throw NotFound(name);
        }
        caller.RequireActingFor(held.AgentId);
        await tx.DeleteLockAsync(cluster, name, cancellationToken);
        var revision = await AppendReleasedAsync(tx, held, now, "released", null, null, cancellationToken);
        await mesh.CommitAsync(tx, revision, cancellationToken, SignalKeys.Lock(cluster, name));
        MeshLog.LockReleased(mesh.Logger, cluster, name, held.SessionId, "released");
        return View(held);
    }

    /// <summary>A held lock (<c>GET /locks/{name}</c>); 404 <c>lock_not_found</c> when nobody holds it.</summary>
    public async Task<LockView> GetAsync(MeshCaller caller, string name, string? cluster, CancellationToken cancellationToken)
    {
        caller.Require(MeshScopes.Read);
        name = Validate.LockName(name);
        cluster = caller.ResolveCluster(cluster);
        var found = await mesh.Store.GetLockAsync(cluster, name, cancellationToken);
        return found is { IsHeld: true } ? View(found) : throw NotFound(name);
    }

    /// <summary>The held locks of a cluster by name (<c>GET /locks</c>), a page at a time.</summary>
    public async Task<Page<LockView>> ListAsync(MeshCaller caller, string? cluster, int? limit, string? cursor, CancellationToken cancellationToken)
    {
        caller.Require(MeshScopes.Read);
        cluster = caller.ResolveCluster(cluster);
        var pageSize = Validate.Limit(limit);
        var rows = await mesh.Store.ListLocksAsync(cluster, Cursor.Decode(cursor), pageSize + 1, cancellationToken);
        var (page, next) = Cursor.Trim(rows, pageSize, l => l.Name);
        var views = page.Select(View).ToList();
        return PageBudget.Cut(views, next, kept => Cursor.Encode(views[kept - 1].Name), MeshJsonContext.Default.LockView, mesh.Options.MaxPageBytes);
    }

    /// <summary>
    /// The leader's lock housekeeping: releases held locks whose TTL has passed (their lock-delay counted from the
    /// expiry), and drops the rows of lock-delays that ended. Returns how many locks it released.
    /// </summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var now = mesh.Now();
        var released = 0;
        while (true)
        {
            await using var tx = await mesh.Store.BeginWriteAsync(cancellationToken);
            var expired = await tx.ListExpiredLocksAsync(now, Batch, cancellationToken);
            var dropped = await tx.DeleteLapsedLockDelaysAsync(now, cancellationToken);
            if (expired.Count == 0 && dropped == 0)
            {
                return released;
            }
            long revision = 0;
            foreach (var held in expired)
            {
                revision = await ReleaseAsync(tx, held, held.ExpiresAt!.Value, "ttl_elapsed", null, cancellationToken);
                MeshLog.LockReleased(mesh.Logger, held.Cluster, held.Name, held.SessionId, "ttl_elapsed");
            }
            await mesh.CommitAsync(tx, revision, cancellationToken);
            released += expired.Count;
            if (expired.Count < Batch)
            {
                return released;
            }
        }
    }

    /// <summary>
    /// Releases, in the write that ends <paramref name="ended"/>, every lock the session held, with a
    /// <c>lock.released</c> event each (reason <c>session_&lt;status&gt;</c>) and its lock-delay; waiters wake once the
    /// write commits. Returns the last event's revision, or null when the session held none.
    /// </summary>
    internal static async Task<long?> ReleaseHeldByAsync(IMeshWriteTransaction tx, SessionRecord ended, DateTimeOffset now, CancellationToken cancellationToken)
    {
        long? revision = null;
        foreach (var held in await tx.ListLocksHeldByAsync(ended.SessionId, cancellationToken))
        {
            revision = await ReleaseAsync(tx, held, now, "session_" + (ended.EndStatus ?? SessionStatus.Expired).ToWire(), ended.EndReason, cancellationToken);
        }
        return revision;
    }

    /// <summary>An involuntary release at <paramref name="at"/>: the row stays for the lock-delay, if the lock has one.</summary>
    private static async Task<long> ReleaseAsync(IMeshWriteTransaction tx, LockRecord held, DateTimeOffset at, string reason, string? sessionEndReason, CancellationToken cancellationToken)
    {
        DateTimeOffset? delayUntil = held.LockDelay > 0 ? at.AddSeconds(held.LockDelay) : null;
        if (delayUntil is { } until)
        {
            await tx.UpsertLockAsync(held with { ReleasedAt = at, DelayUntil = until }, cancellationToken);
        }
        else
        {
            await tx.DeleteLockAsync(held.Cluster, held.Name, cancellationToken);
        }
        MeshRuntime.WakeOnCommit(tx, SignalKeys.Lock(held.Cluster, held.Name));
        return await AppendReleasedAsync(tx, held, at, reason, sessionEndReason, delayUntil, cancellationToken);
    }

    private static Task<long> AppendReleasedAsync(IMeshWriteTransaction tx, LockRecord held, DateTimeOffset at, string reason, string? sessionEndReason, DateTimeOffset? delayUntil, CancellationToken cancellationToken) =>
        MeshRuntime.AppendEventAsync(tx, "lock.released", held.Cluster, at, held.AgentId, held.SessionId,
            View(held) with { ReleasedAt = at, ReleaseReason = reason, SessionEndReason = sessionEndReason, DelayedUntil = delayUntil },
            MeshJsonContext.Default.LockView, cancellationToken);

    /// <summary>One try, in one write: the lock, or the refusal with when to look again and the wake-up to wait on.</summary>
    private async Task<Attempt> TryAcquireAsync(MeshCaller caller, string name, string sessionId, int? ttl, int lockDelay, Dictionary<string, string> metadata, CancellationToken cancellationToken)
    {
        var now = mesh.Now();
        await using var tx = await mesh.Store.BeginWriteAsync(cancellationToken);
        var session = mesh.Leases.OverlayOrNull(await tx.GetSessionAsync(sessionId, cancellationToken));
        if (session is null || !caller.CanSee(session.Cluster))
        {
            throw MeshException.SessionNotFound(sessionId);
        }
        MeshAudit.InCluster(session.Cluster);
        caller.RequireActingFor(session.AgentId, field: "session_id");
        // With replicas, a lease is judged a margin back, as expiry judges it: a renewal taken elsewhere may not be stored yet.
        if (!session.IsOpen || session.StatusAt(now - mesh.ExpiryMargin) == SessionStatus.Expired)
        {
            throw MeshException.Gone("session_ended", $"Session '{sessionId}' has ended ({session.StatusAt(now).ToWire()}); a lock needs an open session: join again.");
        }
        var cluster = session.Cluster;
        var released = mesh.Signals.Next(SignalKeys.Lock(cluster, name));
        long revision = 0;
        var existing = await tx.GetLockAsync(cluster, name, cancellationToken);
        if (existing is { IsHeld: true } held)
        {
            if (held.SessionId == sessionId)
            {
                return new(View(held), false, null, null, released);
            }
            if (held.ExpiresAt is not { } expiresAt || expiresAt > now)
            {
                return Refused(MeshException.Conflict("lock_held",
                    $"Lock '{name}' is held by session '{held.SessionId}' of agent '{held.AgentId}' since {Time(held.AcquiredAt)}{(held.ExpiresAt is { } e ? $" (its ttl ends it at {Time(e)})" : "")}."), held.ExpiresAt, released);
            }
            // Its TTL passed before the sweeper got to it: released now, as of its expiry.
            existing = held.LockDelay > 0 ? held with { ReleasedAt = expiresAt, DelayUntil = expiresAt.AddSeconds(held.LockDelay) } : null;
            if (existing is null || existing.DelayUntil <= now)
            {
                revision = await ReleaseAsync(tx, held, expiresAt, "ttl_elapsed", null, cancellationToken);
                existing = null;
            }
        }
        if (existing is { DelayUntil: { } delayUntil } delayed && delayUntil > now)
        {
            return Refused(MeshException.Conflict("lock_delay",
                $"Lock '{name}' was released at {Time(delayed.ReleasedAt ?? delayed.AcquiredAt)} when its holder (session '{delayed.SessionId}' of agent '{delayed.AgentId}') ended; its lock_delay of {delayed.LockDelay} s keeps it until {Time(delayUntil)}."), delayUntil, released);
        }

        var acquired = new LockRecord(cluster, name, sessionId, session.AgentId, now, ttl is { } t ? now.AddSeconds(t) : null, ttl, lockDelay, metadata, 0);
        revision = await MeshRuntime.AppendEventAsync(tx, "lock.acquired", cluster, now, session.AgentId, sessionId, View(acquired) with { Revision = null }, MeshJsonContext.Default.LockView, cancellationToken);
        acquired = acquired with { Revision = revision };
        await tx.UpsertLockAsync(acquired, cancellationToken);
        MeshAudit.Current?.Created = true;
        await mesh.CommitAsync(tx, revision, cancellationToken);
        MeshLog.LockAcquired(mesh.Logger, cluster, name, sessionId);
        return new(View(acquired), true, null, null, released);
    }

    private static Attempt Refused(MeshException refusal, DateTimeOffset? freeAt, Task released) => new(null, false, refusal, freeAt, released);

    private static LockView View(LockRecord l) => new()
    {
        Name = l.Name,
        Cluster = l.Cluster,
        SessionId = l.SessionId,
        AgentId = l.AgentId,
        AcquiredAt = l.AcquiredAt,
        ExpiresAt = l.ExpiresAt,
        Ttl = l.Ttl,
        LockDelay = l.LockDelay,
        Metadata = new Dictionary<string, string>(l.Metadata, StringComparer.Ordinal),
        Revision = l.Revision,
    };

    private static MeshException NotFound(string name) => MeshException.NotFound("lock_not_found", $"No session holds a lock '{name}' in this cluster.");

    private static string Time(DateTimeOffset t) => t.UtcDateTime.ToString(UtcTimestampConverter.Format, CultureInfo.InvariantCulture);

    private static TimeSpan Min(TimeSpan a, TimeSpan b, TimeSpan c) => a < b ? (a < c ? a : c) : (b < c ? b : c);

    private sealed record Attempt(LockView? Lock, bool Acquired, MeshException? Refusal, DateTimeOffset? FreeAt, Task? Released);
}
