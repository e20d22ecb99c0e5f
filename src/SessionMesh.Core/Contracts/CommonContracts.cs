namespace SessionMesh.Contracts;

/// <summary>A page of a list: the items and, when there are more, the cursor of the next page.</summary>
public sealed record Page<T>
{
    public required List<T> Items { get; init; }
    public string? NextCursor { get; init; }
}

/// <summary>An RFC 9457 problem, as the client reads it.</summary>
public sealed record ProblemResponse
{
    public string? Type { get; init; }
    public string? Title { get; init; }
    public int? Status { get; init; }
    public string? Detail { get; init; }
    public string? Instance { get; init; }
    /// <summary>A stable machine code: <c>agent_not_found</c>, <c>invalid_key</c>, ...</summary>
    public string? Code { get; init; }
    /// <summary>The request field at fault, when there is one.</summary>
    public string? Field { get; init; }
    public string? TraceId { get; init; }
}

/// <summary>One audit entry.</summary>
public sealed record AuditView
{
    public required long Id { get; init; }
    public required DateTimeOffset At { get; init; }
    public required string KeyId { get; init; }
    public required string Cluster { get; init; }
    public required string Method { get; init; }
    public required string Path { get; init; }
    public required int Status { get; init; }
    public string? Code { get; init; }
}

/// <summary>Answer of <c>/healthz</c> and <c>/readyz</c>.</summary>
public sealed record HealthResponse
{
    public required string Status { get; init; }
    public string? Store { get; init; }

    /// <summary>On <c>/readyz</c>: how many servers share the store, this one included (replicas on PostgreSQL).</summary>
    public int? Replicas { get; init; }
}
