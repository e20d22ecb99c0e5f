using System.Net;
using SessionMesh.Client.Http;
using SessionMesh.Contracts;

namespace SessionMesh.Client;

public sealed partial class SessionMeshClient
{
    /// <summary>
    /// <c>POST /locks</c>: takes a lock for an open session. Acquired is false when the session already held it (an
    /// idempotent retry, so the call is retried on transient failures). A held lock throws
    /// <see cref="SessionMeshException"/> with code <c>lock_held</c> (or <c>lock_delay</c> while a dead holder's
    /// lock-delay runs), at once or after <see cref="AcquireLockRequest.Wait"/> seconds of waiting for it.
    /// </summary>
    public async Task<(LockView Lock, bool Acquired)> AcquireLockAsync(AcquireLockRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var call = new MeshCallOptions { Retryable = true, Timeout = Options.RequestTimeout + TimeSpan.FromSeconds(request.Wait ?? 0) };
        var (held, status) = await _transport.SendWithStatusAsync(
            HttpMethod.Post, "locks", request, MeshJsonContext.Default.AcquireLockRequest, MeshJsonContext.Default.LockView, call, cancellationToken);
        return (held, status == HttpStatusCode.Created);
    }

    /// <summary><c>DELETE /locks/{name}</c>: releases a lock (its holder, or admin); returns it as it was held.</summary>
    public Task<LockView> ReleaseLockAsync(string name, string? cluster = null, CancellationToken cancellationToken = default) =>
        SendNoBodyAsync(HttpMethod.Delete, LockPath(name, cluster), MeshJsonContext.Default.LockView, cancellationToken);

    /// <summary><c>GET /locks/{name}</c>: a held lock; code <c>lock_not_found</c> when nobody holds it.</summary>
    public Task<LockView> GetLockAsync(string name, string? cluster = null, CancellationToken cancellationToken = default) =>
        GetAsync(LockPath(name, cluster), MeshJsonContext.Default.LockView, cancellationToken);

    /// <summary><c>GET /locks</c>: one page of the held locks, by name.</summary>
    public Task<Page<LockView>> ListLocksAsync(int? limit = null, string? cursor = null, string? cluster = null, CancellationToken cancellationToken = default) =>
        GetAsync(new MeshQuery("locks").Add("cluster", cluster).Add("limit", limit).Add("cursor", cursor).ToString(), MeshJsonContext.Default.PageLockView, cancellationToken);

    /// <summary><c>GET /locks</c>, every page.</summary>
    public IAsyncEnumerable<LockView> ListAllLocksAsync(string? cluster = null, CancellationToken cancellationToken = default) =>
        AllPagesAsync(cursor => ListLocksAsync(null, cursor, cluster, cancellationToken), cancellationToken);

    // A name's slashes go encoded (%2F), which the server reads back as slashes.
    private static string LockPath(string name, string? cluster) =>
        new MeshQuery($"locks/{MeshQuery.Segment(name)}").Add("cluster", cluster).ToString();
}
