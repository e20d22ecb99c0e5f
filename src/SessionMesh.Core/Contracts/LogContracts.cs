namespace SessionMesh.Contracts;

/// <summary>Body of <c>POST /agents/{agent_id}/logs</c>: a batch of output lines shipped by the agent's wrapper.</summary>
public sealed record LogAppendRequest
{
    /// <summary>The lines, oldest first.</summary>
    public List<LogLineInput>? Lines { get; init; }
    /// <summary>Lines the wrapper could not ship since its last batch (its buffer was full): counted, not kept.</summary>
    public long? Dropped { get; init; }
    public string? Cluster { get; init; }
}

/// <summary>One line of output as the wrapper ships it.</summary>
public sealed record LogLineInput
{
    /// <summary><c>stdout</c> or <c>stderr</c>.</summary>
    public string? Stream { get; init; }
    /// <summary>The line, without its line break.</summary>
    public string? Text { get; init; }
}

/// <summary>Answer to a log append.</summary>
public sealed record LogAppendResponse
{
    public required int Accepted { get; init; }
    /// <summary>The sequence of the last line kept.</summary>
    public required long LastSequence { get; init; }
}

/// <summary>One kept line of an agent's output.</summary>
public sealed record LogLineView
{
    /// <summary>Position in the agent's output: strictly increasing, the SSE <c>id</c> when following.</summary>
    public required long Sequence { get; init; }
    /// <summary>When the server received it.</summary>
    public required DateTimeOffset At { get; init; }
    public required string Stream { get; init; }
    public required string Text { get; init; }
}

/// <summary>Answer to <c>GET /agents/{agent_id}/logs</c>: the last lines kept for the agent.</summary>
public sealed record LogTailView
{
    public required string AgentId { get; init; }
    public required string Cluster { get; init; }
    /// <summary>The lines, oldest first.</summary>
    public List<LogLineView> Items { get; init; } = [];
    /// <summary>Lines the wrapper reported it could not ship, in all.</summary>
    public long Dropped { get; init; }
    /// <summary>Lines let go to keep the tail within its bounds (lines and bytes), in all.</summary>
    public long Evicted { get; init; }
}
