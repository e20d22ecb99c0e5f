using System.Runtime.CompilerServices;
using SessionMesh.Model;

namespace SessionMesh.Security;

/// <summary>Why a bearer token was refused, as a stable code.</summary>
public enum AuthFailure
{
    None,
    MissingKey,
    InvalidKey,
    KeyExpired,
    KeyRevoked,
}

/// <summary>
/// Turns a bearer token into a <see cref="MeshCaller"/>, or says why not: from the <see cref="KeyCache"/>, so a valid
/// key reads no store; revocation as the cache knows it, expiry against the clock at each request.
/// </summary>
public sealed class KeyAuthenticator(KeyCache keys, TimeProvider time)
{
    // One caller per stored key record: the cache replaces a record when its key changes, and so gets a new caller.
    private readonly ConditionalWeakTable<ApiKeyRecord, MeshCaller> _callers = [];

    public async ValueTask<(MeshCaller? Caller, AuthFailure Failure)> AuthenticateAsync(string? token, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(token))
        {
            return (null, AuthFailure.MissingKey);
        }
        var key = await FindAsync(token, cancellationToken);
        if (key is null)
        {
            return (null, AuthFailure.InvalidKey);
        }
        if (key.RevokedAt is not null)
        {
            return (null, AuthFailure.KeyRevoked);
        }
        if (key.ExpiresAt is { } expires && expires <= time.GetUtcNow())
        {
            return (null, AuthFailure.KeyExpired);
        }
        return (_callers.GetValue(key, ToCaller), AuthFailure.None);
    }

    /// <summary>The stored key a token proves, whatever its state; null when it proves none.</summary>
    public async ValueTask<ApiKeyRecord?> FindAsync(string token, CancellationToken cancellationToken)
    {
        if (KeySecrets.KeyIdOf(token) is { } keyId
            && await keys.GetAsync(keyId, cancellationToken) is { } key
            && KeySecrets.Matches(token, key.SecretHash))
        {
            return key;
        }
        // A root key set through the environment may have any shape.
        var root = await keys.GetAsync(ApiKeyRecord.RootKeyId, cancellationToken);
        return root is not null && KeySecrets.Matches(token, root.SecretHash) ? root : null;
    }

    public static MeshCaller ToCaller(ApiKeyRecord key) => new(key.KeyId, key.Cluster, key.Scopes, key.AgentId, key.ExpiresAt);
}
