using SessionMesh.Contracts;
using SessionMesh.Model;
using SessionMesh.Security;
using SessionMesh.Store;

namespace SessionMesh.Mesh;

/// <summary>
/// Session keys: minted never wider (scopes, cluster, agent) or longer-lived than the minting key; rotated and revoked
/// under one rule of who may manage which key, checked inside the write; the root key from configuration. Every key
/// a commit changes is written to the <see cref="KeyCache"/> right after that commit, so authentication and streams,
/// which read the cache, see it at once.
/// </summary>
public sealed class KeyService(MeshRuntime mesh, KeyAuthenticator authenticator)
{
    private const MeshScopes AllButAdmin = MeshScopes.Read | MeshScopes.Agent | MeshScopes.Register | MeshScopes.Steer | MeshScopes.Kill | MeshScopes.Keys;

    /// <summary>
    /// Mints a key, never wider (scopes, cluster, agent) or longer-lived than the caller's; or, with
    /// <c>session_key</c>, rotates that key: a new secret with the same grants, the old one revoked.
    /// </summary>
    public async Task<CreatedKeyView> CreateAsync(MeshCaller caller, CreateKeyRequest request, CancellationToken cancellationToken)
    {
        if (request.SessionKey is not null)
        {
            return await RotateAsync(caller, request, cancellationToken);
        }
        caller.Require(MeshScopes.Keys);
        var scopes = ParseScopes(request.Scopes) ?? (caller.IsAdmin ? AllButAdmin : caller.Scopes & ~MeshScopes.Admin);
        if (!caller.Scopes.Covers(scopes))
        {
            throw MeshException.Forbidden("scope_escalation", $"A key cannot mint a key wider than itself: this key has [{string.Join(", ", MeshScopeNames.ToNames(caller.Scopes))}].", "scopes");
        }
        var cluster = caller.ResolveCluster(request.Cluster);
        MeshAudit.InCluster(cluster);
        var agentId = request.AgentId is null ? caller.AgentId : Validate.AgentId(request.AgentId);
        if (caller.AgentId is not null && agentId != caller.AgentId && !caller.IsAdmin)
        {
            throw MeshException.Forbidden("agent_mismatch", $"This key is bound to agent '{caller.AgentId}' and can only mint keys bound to it.", "agent_id");
        }
        var name = Validate.Text(request.Name, "name", MeshLimits.MaxNameLength);
        var now = mesh.Now();
        var ttl = Validate.Ttl(request.Ttl, mesh.Options.DefaultKeyTtl, max: mesh.Options.MaxKeyTtl);
        var expiresAt = now.AddSeconds(ttl);
        CheckLifetime(expiresAt, caller.ExpiresAt, now);
        var keyId = Ids.NewKeyId();
        var token = KeySecrets.NewToken(keyId);
        // The minting key's expiry bounds this key and every successor it is rotated into.
        var key = new ApiKeyRecord(keyId, KeySecrets.Hash(token), cluster, scopes, agentId, name, now, expiresAt, null, caller.KeyId, null, caller.ExpiresAt);

        await using var tx = await mesh.Store.BeginWriteAsync(cancellationToken);
        await tx.UpsertKeyAsync(key, cancellationToken);
        var revision = await AppendEventAsync(tx, "key.created", key, now, cancellationToken);
        await CommitAsync(tx, revision, [key], cancellationToken);
        return Created(key, token, ttl, now);
    }

    public async Task<Page<KeyView>> ListAsync(MeshCaller caller, string? cluster, int? limit, string? cursor, CancellationToken cancellationToken)
    {
        caller.Require(MeshScopes.Keys);
        var size = Validate.Limit(limit);
        // An admin without a cluster sees every cluster's keys; anyone else only their own cluster's.
        var resolved = caller.IsAdmin && string.IsNullOrEmpty(cluster) ? null : caller.ResolveCluster(cluster);
        var rows = await mesh.Store.ListKeysAsync(resolved, Cursor.Decode(cursor), size + 1, cancellationToken);
        var (page, next) = Cursor.Trim(rows, size, k => k.KeyId);
        var now = mesh.Now();
        var views = page.Select(k => MeshViews.Key(k, now)).ToList();
        return PageBudget.Cut(views, next, kept => Cursor.Encode(views[kept - 1].KeyId), MeshJsonContext.Default.KeyView, mesh.Options.MaxPageBytes);
    }

    /// <summary>The calling key itself.</summary>
    public async Task<KeyView> GetSelfAsync(MeshCaller caller, CancellationToken cancellationToken)
    {
        var key = await mesh.Keys.GetAsync(caller.KeyId, cancellationToken) ?? throw MeshException.NotFound("key_not_found", "The calling key no longer exists.");
        return MeshViews.Key(key, mesh.Now());
    }

    /// <summary>Revokes a key: the caller's own, or one the caller may manage. Streams opened with it end.</summary>
    public async Task<KeyView> RevokeAsync(MeshCaller caller, string keyId, CancellationToken cancellationToken)
    {
        var now = mesh.Now();
        await using var tx = await mesh.Store.BeginWriteAsync(cancellationToken);
        var key = await tx.GetKeyAsync(keyId, cancellationToken);
        if (key is null || !caller.CanSee(key.Cluster))
        {
            throw MeshException.NotFound("key_not_found", $"No key '{keyId}'.");
        }
        MeshAudit.InCluster(key.Cluster);
        CheckMayManage(caller, key, "revoke", null);
        if (key.RevokedAt is null)
        {
            key = key with { RevokedAt = now };
            await tx.UpsertKeyAsync(key, cancellationToken);
            var revision = await AppendEventAsync(tx, "key.revoked", key, now, cancellationToken);
            await CommitAsync(tx, revision, [key], cancellationToken);
            MeshLog.KeyRevoked(mesh.Logger, key.Cluster, key.KeyId, caller.KeyId);
        }
        return MeshViews.Key(key, now);
    }

    /// <summary>
    /// Makes sure the root key exists: from <paramref name="configuredSecret"/> when given (replacing any
    /// other), else generated once. Returns the new secret when one was generated, so it can be shown once.
    /// </summary>
    public async Task<string?> EnsureRootKeyAsync(string? configuredSecret, CancellationToken cancellationToken)
    {
        var now = mesh.Now();
        await using var tx = await mesh.Store.BeginWriteAsync(cancellationToken);
        var existing = await tx.GetKeyAsync(ApiKeyRecord.RootKeyId, cancellationToken);
        string? generated = null;
        string secret;
        if (!string.IsNullOrEmpty(configuredSecret))
        {
            secret = configuredSecret;
        }
        else if (existing is not null)
        {
            return null;
        }
        else
        {
            secret = generated = KeySecrets.NewToken(ApiKeyRecord.RootKeyId);
        }
        var hash = KeySecrets.Hash(secret);
        if (existing is not null && existing.SecretHash.AsSpan().SequenceEqual(hash))
        {
            return null;
        }
        var root = new ApiKeyRecord(ApiKeyRecord.RootKeyId, hash, "default", MeshScopes.Admin, null, "root", now, null, null, null, null);
        await tx.UpsertKeyAsync(root, cancellationToken);
        var revision = await AppendEventAsync(tx, "key.created", root, now, cancellationToken);
        await CommitAsync(tx, revision, [root], cancellationToken);
        return generated;
    }

    /// <summary>
    /// Rotation: the presented secret's key is revoked and one successor with the same grants minted, in one write
    /// that re-reads the old key, so of racing rotations (or a rotation racing a revocation) at most one succeeds. Who
    /// may rotate a key is who may revoke it. The successor lives no longer than the chain's limit (the expiry of the
    /// key that minted the chain) nor, rotated by another key, than that key.
    /// </summary>
    private async Task<CreatedKeyView> RotateAsync(MeshCaller caller, CreateKeyRequest request, CancellationToken cancellationToken)
    {
        if (request.Scopes is not null || request.AgentId is not null || request.Cluster is not null)
        {
            throw MeshException.Invalid("session_key", "A rotation keeps the key's scopes, cluster and agent: give only 'session_key', 'ttl' and 'name'.");
        }
        var presented = await authenticator.FindAsync(request.SessionKey!, cancellationToken);
        if (presented is null || !caller.CanSee(presented.Cluster))
        {
            throw MeshException.Invalid("session_key", "'session_key' is not a key of this server.");
        }
        MeshAudit.InCluster(presented.Cluster);
        var name = Validate.Text(request.Name, "name", MeshLimits.MaxNameLength);
        var now = mesh.Now();

        await using var tx = await mesh.Store.BeginWriteAsync(cancellationToken);
        var old = await tx.GetKeyAsync(presented.KeyId, cancellationToken) ?? throw MeshException.Invalid("session_key", "'session_key' is not a key of this server.");
        if (old.KeyId == ApiKeyRecord.RootKeyId)
        {
            throw RootKeyProtected();
        }
        if (old.StateAt(now) != "active")
        {
            throw MeshException.Invalid("session_key", $"'session_key' is {old.StateAt(now)}; only an active key can be rotated.");
        }
        var self = old.KeyId == caller.KeyId;
        CheckMayManage(caller, old, "rotate", "session_key");
        var originalTtl = old.ExpiresAt is { } e ? (int)Math.Ceiling((e - old.CreatedAt).TotalSeconds) : mesh.Options.MaxKeyTtl;
        var limitAt = Earliest(old.LimitAt, self ? null : caller.ExpiresAt);
        var ttl = Validate.Ttl(request.Ttl, originalTtl, max: self ? originalTtl : mesh.Options.MaxKeyTtl);
        if (request.Ttl is null && limitAt is { } limit && now.AddSeconds(ttl) > limit)
        {
            // Asked for nothing in particular: as long as the chain may live.
            ttl = Math.Max(1, (int)Math.Floor((limit - now).TotalSeconds));
        }
        var expiresAt = now.AddSeconds(ttl);
        CheckLifetime(expiresAt, limitAt, now);
        var keyId = Ids.NewKeyId();
        var token = KeySecrets.NewToken(keyId);
        var key = new ApiKeyRecord(keyId, KeySecrets.Hash(token), old.Cluster, old.Scopes, old.AgentId, name ?? old.Name, now, expiresAt, null, caller.KeyId, old.KeyId, limitAt);
        var revoked = old with { RevokedAt = now };
        await tx.UpsertKeyAsync(revoked, cancellationToken);
        await AppendEventAsync(tx, "key.revoked", revoked, now, cancellationToken);
        await tx.UpsertKeyAsync(key, cancellationToken);
        var revision = await AppendEventAsync(tx, "key.created", key, now, cancellationToken);
        await CommitAsync(tx, revision, [revoked, key], cancellationToken);
        MeshLog.KeyRotated(mesh.Logger, old.Cluster, old.KeyId, key.KeyId, caller.KeyId);
        return Created(key, token, ttl, now);
    }

    /// <summary>
    /// Commits, writes the changed keys to the cache, then wakes the streams opened with them (which end when their key
    /// is no longer active) and the event watchers. The cache is written before the wake-ups, so a stream that wakes
    /// reads the new state; after the commit, so the cache never holds what the store may not.
    /// </summary>
    private async Task CommitAsync(IMeshWriteTransaction tx, long revision, ApiKeyRecord[] changed, CancellationToken cancellationToken)
    {
        await mesh.CommitQuietlyAsync(tx, cancellationToken);
        foreach (var key in changed)
        {
            mesh.Keys.Set(key);
        }
        mesh.Notify(revision, changed.Select(k => SignalKeys.Key(k.KeyId)));
    }

    /// <summary>
    /// The one rule for revoking and rotating: a key may always act on itself; on another key it needs the
    /// <c>keys</c> scope, every grant of that key, and (when bound to an agent) the same agent binding.
    /// </summary>
    private static void CheckMayManage(MeshCaller caller, ApiKeyRecord key, string action, string? field)
    {
        if (key.KeyId != caller.KeyId)
        {
            caller.Require(MeshScopes.Keys);
            if (!caller.Scopes.Covers(key.Scopes) || (caller.AgentId is not null && key.AgentId != caller.AgentId && !caller.IsAdmin))
            {
                throw MeshException.Forbidden("insufficient_scope", $"Key '{key.KeyId}' has grants this key does not hold, so this key cannot {action} it.", field);
            }
        }
        if (key.KeyId == ApiKeyRecord.RootKeyId)
        {
            throw RootKeyProtected();
        }
    }

    private static void CheckLifetime(DateTimeOffset expiresAt, DateTimeOffset? limit, DateTimeOffset now)
    {
        if (limit is { } l && expiresAt > l)
        {
            throw MeshException.Forbidden("key_lifetime_exceeded", $"A key cannot outlive the key that minted it: at most {Math.Max(0, (int)(l - now).TotalSeconds)} seconds are left.", "ttl");
        }
    }

    private static DateTimeOffset? Earliest(DateTimeOffset? a, DateTimeOffset? b) =>
        a is null ? b : b is null ? a : a < b ? a : b;

    private static MeshException RootKeyProtected() =>
        MeshException.Conflict("root_key_protected", "The root key is configuration: set SESSION_MESH_ROOT_KEY or replace the root key file and restart.");

    private static MeshScopes? ParseScopes(List<string>? names)
    {
        if (names is null)
        {
            return null;
        }
        if (names.Count == 0)
        {
            throw MeshException.Invalid("scopes", "'scopes' cannot be empty.");
        }
        var scopes = MeshScopes.None;
        foreach (var name in names)
        {
            scopes |= MeshScopeNames.Parse(name ?? "")
                ?? throw MeshException.Invalid("scopes", $"Unknown scope '{name}'; scopes are: {string.Join(", ", MeshScopeNames.All)}.");
        }
        return scopes;
    }

    private static CreatedKeyView Created(ApiKeyRecord key, string token, int ttl, DateTimeOffset now)
    {
        var view = MeshViews.Key(key, now);
        return new CreatedKeyView
        {
            KeyId = view.KeyId,
            Name = view.Name,
            Cluster = view.Cluster,
            Scopes = view.Scopes,
            AgentId = view.AgentId,
            State = view.State,
            CreatedAt = view.CreatedAt,
            ExpiresAt = view.ExpiresAt,
            CreatedBy = view.CreatedBy,
            RotatedFrom = view.RotatedFrom,
            SessionKey = token,
            Ttl = ttl,
        };
    }

    private static Task<long> AppendEventAsync(IMeshWriteTransaction tx, string type, ApiKeyRecord key, DateTimeOffset now, CancellationToken cancellationToken) =>
        MeshRuntime.AppendEventAsync(tx, type, key.Cluster, now, key.AgentId, null, MeshViews.Key(key, now), MeshJsonContext.Default.KeyView, cancellationToken);
}
