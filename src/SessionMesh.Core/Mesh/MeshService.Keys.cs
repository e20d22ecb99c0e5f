using SessionMesh.Contracts;
using SessionMesh.Model;
using SessionMesh.Security;

namespace SessionMesh.Mesh;

public sealed partial class MeshService
{
    /// <summary>
    /// Mints a key, never wider (scopes, cluster, agent) or longer-lived than the caller's; or, with
    /// <c>session_key</c>, rotates that key: a new secret with the same grants, the old one revoked.
    /// </summary>
    public async Task<CreatedKeyView> CreateKeyAsync(MeshCaller caller, CreateKeyRequest request, CancellationToken cancellationToken)
    {
        if (request.SessionKey is not null)
        {
            return await RotateKeyAsync(caller, request, cancellationToken);
        }
        caller.Require(MeshScopes.Keys);
        var scopes = ParseScopes(request.Scopes) ?? (caller.IsAdmin ? AllButAdmin : caller.Scopes & ~MeshScopes.Admin);
        if (!caller.Scopes.Covers(scopes))
        {
            throw MeshException.Forbidden("scope_escalation", $"A key cannot mint a key wider than itself: this key has [{string.Join(", ", MeshScopeNames.ToNames(caller.Scopes))}].", "scopes");
        }
        var cluster = caller.ResolveCluster(request.Cluster);
        var agentId = request.AgentId is null ? caller.AgentId : Validate.AgentId(request.AgentId);
        if (caller.AgentId is not null && agentId != caller.AgentId && !caller.IsAdmin)
        {
            throw MeshException.Forbidden("agent_mismatch", $"This key is bound to agent '{caller.AgentId}' and can only mint keys bound to it.", "agent_id");
        }
        var name = Validate.Text(request.Name, "name", MeshLimits.MaxNameLength);
        var now = Now();
        var ttl = Validate.Ttl(request.Ttl, options.DefaultKeyTtl, max: options.MaxKeyTtl);
        var expiresAt = now.AddSeconds(ttl);
        if (caller.ExpiresAt is { } limit && expiresAt > limit)
        {
            throw MeshException.Forbidden("key_lifetime_exceeded", $"A key cannot outlive the key that mints it: at most {(int)(limit - now).TotalSeconds} seconds are left.", "ttl");
        }
        var keyId = Ids.NewKeyId();
        var token = KeySecrets.NewToken(keyId);
        var key = new ApiKeyRecord(keyId, KeySecrets.Hash(token), cluster, scopes, agentId, name, now, expiresAt, null, caller.KeyId, null);

        await using var tx = await store.BeginWriteAsync(cancellationToken);
        await tx.UpsertKeyAsync(key, cancellationToken);
        var revision = await AppendKeyEventAsync(tx, "key.created", key, now, cancellationToken);
        await CommitAsync(tx, revision, cancellationToken);
        return Created(key, token, ttl, now);
    }

    public async Task<Page<KeyView>> ListKeysAsync(MeshCaller caller, string? cluster, int? limit, string? cursor, CancellationToken cancellationToken)
    {
        caller.Require(MeshScopes.Keys);
        var size = Validate.Limit(limit);
        // An admin without a cluster sees every cluster's keys; anyone else only their own cluster's.
        var resolved = caller.IsAdmin && string.IsNullOrEmpty(cluster) ? null : caller.ResolveCluster(cluster);
        var rows = await store.ListKeysAsync(resolved, Cursor.Decode(cursor), size + 1, cancellationToken);
        var (page, next) = Cursor.Trim(rows, size, k => k.KeyId);
        var now = Now();
        return new Page<KeyView> { Items = page.Select(k => ToView(k, now)).ToList(), NextCursor = next };
    }

    /// <summary>The calling key itself.</summary>
    public async Task<KeyView> GetSelfAsync(MeshCaller caller, CancellationToken cancellationToken)
    {
        var key = await store.GetKeyAsync(caller.KeyId, cancellationToken) ?? throw MeshException.NotFound("key_not_found", "The calling key no longer exists.");
        return ToView(key, Now());
    }

    /// <summary>Revokes a key: the caller's own, or one within the caller's scopes and cluster.</summary>
    public async Task<KeyView> RevokeKeyAsync(MeshCaller caller, string keyId, CancellationToken cancellationToken)
    {
        var now = Now();
        await using var tx = await store.BeginWriteAsync(cancellationToken);
        var key = await tx.GetKeyAsync(keyId, cancellationToken);
        if (key is null || !caller.CanSee(key.Cluster))
        {
            throw MeshException.NotFound("key_not_found", $"No key '{keyId}'.");
        }
        if (key.KeyId != caller.KeyId)
        {
            caller.Require(MeshScopes.Keys);
            if (!caller.Scopes.Covers(key.Scopes) || (caller.AgentId is not null && key.AgentId != caller.AgentId && !caller.IsAdmin))
            {
                throw MeshException.Forbidden("insufficient_scope", $"Key '{keyId}' has grants this key does not hold, so this key cannot revoke it.");
            }
        }
        if (key.KeyId == ApiKeyRecord.RootKeyId)
        {
            throw MeshException.Conflict("root_key_protected", "The root key is configuration: set SESSION_MESH_ROOT_KEY or replace the root key file and restart.");
        }
        if (key.RevokedAt is null)
        {
            key = key with { RevokedAt = now };
            await tx.UpsertKeyAsync(key, cancellationToken);
            var revision = await AppendKeyEventAsync(tx, "key.revoked", key, now, cancellationToken);
            await CommitAsync(tx, revision, cancellationToken);
        }
        return ToView(key, now);
    }

    /// <summary>
    /// Rotation: the presented secret's key is revoked and a key with the same grants minted. A key may
    /// rotate itself for up to its original lifetime; another key needs the <c>keys</c> scope over it.
    /// </summary>
    private async Task<CreatedKeyView> RotateKeyAsync(MeshCaller caller, CreateKeyRequest request, CancellationToken cancellationToken)
    {
        if (request.Scopes is not null || request.AgentId is not null || request.Cluster is not null)
        {
            throw MeshException.Invalid("session_key", "A rotation keeps the key's scopes, cluster and agent: give only 'session_key', 'ttl' and 'name'.");
        }
        var authenticator = new KeyAuthenticator(store, time);
        var old = await authenticator.FindAsync(request.SessionKey!, cancellationToken);
        var now = Now();
        if (old is null || !caller.CanSee(old.Cluster))
        {
            throw MeshException.Invalid("session_key", "'session_key' is not a key of this server.");
        }
        if (old.StateAt(now) != "active")
        {
            throw MeshException.Invalid("session_key", $"'session_key' is {old.StateAt(now)}; only an active key can be rotated.");
        }
        if (old.KeyId == ApiKeyRecord.RootKeyId)
        {
            throw MeshException.Conflict("root_key_protected", "The root key is configuration: set SESSION_MESH_ROOT_KEY or replace the root key file and restart.");
        }
        var self = old.KeyId == caller.KeyId;
        if (!self)
        {
            caller.Require(MeshScopes.Keys);
            if (!caller.Scopes.Covers(old.Scopes))
            {
                throw MeshException.Forbidden("scope_escalation", "This key cannot rotate a key with grants it does not hold.", "session_key");
            }
        }
        var originalTtl = old.ExpiresAt is { } e ? (int)Math.Ceiling((e - old.CreatedAt).TotalSeconds) : options.MaxKeyTtl;
        var ttl = Validate.Ttl(request.Ttl, originalTtl, max: self ? originalTtl : options.MaxKeyTtl);
        var expiresAt = now.AddSeconds(ttl);
        if (!self && caller.ExpiresAt is { } limit && expiresAt > limit)
        {
            throw MeshException.Forbidden("key_lifetime_exceeded", $"A key cannot outlive the key that mints it: at most {(int)(limit - now).TotalSeconds} seconds are left.", "ttl");
        }
        var keyId = Ids.NewKeyId();
        var token = KeySecrets.NewToken(keyId);
        var name = Validate.Text(request.Name, "name", MeshLimits.MaxNameLength) ?? old.Name;
        var key = new ApiKeyRecord(keyId, KeySecrets.Hash(token), old.Cluster, old.Scopes, old.AgentId, name, now, expiresAt, null, caller.KeyId, old.KeyId);
        var revoked = old with { RevokedAt = now };

        await using var tx = await store.BeginWriteAsync(cancellationToken);
        await tx.UpsertKeyAsync(revoked, cancellationToken);
        await AppendKeyEventAsync(tx, "key.revoked", revoked, now, cancellationToken);
        await tx.UpsertKeyAsync(key, cancellationToken);
        var revision = await AppendKeyEventAsync(tx, "key.created", key, now, cancellationToken);
        await CommitAsync(tx, revision, cancellationToken);
        return Created(key, token, ttl, now);
    }

    /// <summary>
    /// Makes sure the root key exists: from <paramref name="configuredSecret"/> when given (replacing any
    /// other), else generated once. Returns the new secret when one was generated, so it can be shown once.
    /// </summary>
    public async Task<string?> EnsureRootKeyAsync(string? configuredSecret, CancellationToken cancellationToken)
    {
        var now = Now();
        await using var tx = await store.BeginWriteAsync(cancellationToken);
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
        var revision = await AppendKeyEventAsync(tx, "key.created", root, now, cancellationToken);
        await CommitAsync(tx, revision, cancellationToken);
        return generated;
    }

    private const MeshScopes AllButAdmin = MeshScopes.Read | MeshScopes.Agent | MeshScopes.Register | MeshScopes.Steer | MeshScopes.Kill | MeshScopes.Keys;

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
        var view = ToView(key, now);
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

    private Task<long> AppendKeyEventAsync(Store.IMeshWriteTransaction tx, string type, ApiKeyRecord key, DateTimeOffset now, CancellationToken cancellationToken) =>
        AppendAsync(tx, type, key.Cluster, now, key.AgentId, null, ToView(key, now), MeshJsonContext.Default.KeyView, cancellationToken);
}
