namespace SessionMesh.Model;

/// <summary>A bearer credential as stored: the secret only as its hash.</summary>
/// <param name="LimitAt">
/// The latest time any key of this rotation chain may live (the expiry of the key that minted the chain); null
/// when nothing above bounds it.
/// </param>
public sealed record ApiKeyRecord(
    string KeyId,
    byte[] SecretHash,
    string Cluster,
    MeshScopes Scopes,
    string? AgentId,
    string? Name,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ExpiresAt,
    DateTimeOffset? RevokedAt,
    string? CreatedBy,
    string? RotatedFrom,
    DateTimeOffset? LimitAt = null)
{
    /// <summary>The id of the server's root key.</summary>
    public const string RootKeyId = "root";

    /// <summary>The key's state at <paramref name="now"/>: <c>active</c>, <c>expired</c> or <c>revoked</c>.</summary>
    public string StateAt(DateTimeOffset now) =>
        RevokedAt is not null ? "revoked" : ExpiresAt is { } e && e <= now ? "expired" : "active";
}
