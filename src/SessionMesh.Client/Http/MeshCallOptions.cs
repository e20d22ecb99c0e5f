namespace SessionMesh.Client.Http;

/// <summary>How one call is sent.</summary>
internal sealed record MeshCallOptions
{
    public string? IdempotencyKey { get; init; }
    public string? BearerOverride { get; init; }
    /// <summary>Safe to retry although the method is POST.</summary>
    public bool Retryable { get; init; }
    public string? LastEventId { get; init; }
    /// <summary>Overrides the request timeout (long polls).</summary>
    public TimeSpan? Timeout { get; init; }
}
