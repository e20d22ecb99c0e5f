namespace SessionMesh.Cli.Config;

/// <summary>A <c>load-config</c> file: the desired state of a fleet.</summary>
internal sealed record MeshConfig
{
    public required string File { get; init; }
    public string? Cluster { get; init; }
    public List<AgentDeclaration> Agents { get; init; } = [];
    public List<KeyDeclaration> Keys { get; init; } = [];
    /// <summary>The default <c>--filter</c> of <c>session-mesh list</c>.</summary>
    public string? DefaultFilter { get; init; }
}

/// <summary>An agent the file declares: its specializations go to the registry; the rest applies when it joins.</summary>
internal sealed record AgentDeclaration
{
    public required string Id { get; init; }
    public string? ParentId { get; init; }
    public List<SpecializationDeclaration> Specializations { get; init; } = [];
    public Dictionary<string, string>? Labels { get; init; }
    public int? Ttl { get; init; }
    public int? MaxRuntime { get; init; }
    /// <summary>The agent's A2A Agent Card, read (and checked) from <see cref="CardFile"/>.</summary>
    public System.Text.Json.JsonElement? Card { get; init; }
    /// <summary>The card file as the YAML names it (relative to the YAML file's directory).</summary>
    public string? CardFile { get; init; }
}

internal sealed record SpecializationDeclaration
{
    public required string Name { get; init; }
    public string? Description { get; init; }
    public List<string>? Tags { get; init; }
    public string? Version { get; init; }
}

/// <summary>A key to mint once; its <see cref="Name"/> makes applying it again a no-op.</summary>
internal sealed record KeyDeclaration
{
    public required string Name { get; init; }
    public List<string> Scopes { get; init; } = [];
    public int? Ttl { get; init; }
    public string? AgentId { get; init; }
}
