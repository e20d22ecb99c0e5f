namespace SessionMesh.Contracts;

/// <summary>Body of <c>POST /keys</c>: mint a key, or rotate one with <see cref="SessionKey"/>.</summary>
public sealed record CreateKeyRequest
{
    /// <summary>Lifetime in seconds; default 3600.</summary>
    public int? Ttl { get; init; }
    public List<string>? Scopes { get; init; }
    public string? AgentId { get; init; }
    public string? Cluster { get; init; }
    public string? Name { get; init; }
    /// <summary>An existing secret to rotate: a new secret is minted and this one revoked.</summary>
    public string? SessionKey { get; init; }
}

/// <summary>A key as listed: never its secret.</summary>
public record KeyView
{
    public required string KeyId { get; init; }
    public string? Name { get; init; }
    public required string Cluster { get; init; }
    public required List<string> Scopes { get; init; }
    public string? AgentId { get; init; }
    /// <summary><c>active</c>, <c>expired</c> or <c>revoked</c>.</summary>
    public required string State { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? ExpiresAt { get; init; }
    public DateTimeOffset? RevokedAt { get; init; }
    public string? CreatedBy { get; init; }
    public string? RotatedFrom { get; init; }
}

/// <summary>A key just minted: the only time its secret is shown.</summary>
public sealed record CreatedKeyView : KeyView
{
    public required string SessionKey { get; init; }
    /// <summary>Lifetime in seconds, as granted.</summary>
    public int? Ttl { get; init; }
}
