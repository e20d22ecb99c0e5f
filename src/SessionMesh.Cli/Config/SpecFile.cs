namespace SessionMesh.Cli.Config;

/// <summary>The seed's key-value file for <c>register --config</c>: <c>spec: data-analysis</c>, <c>agent-id: 789</c>, ...</summary>
internal sealed record SpecFile
{
    private static readonly Dictionary<string, string> s_keys = new(StringComparer.Ordinal)
    {
        ["spec"] = "spec", ["specialization"] = "spec",
        ["agent-id"] = "agent-id", ["agent_id"] = "agent-id", ["id"] = "agent-id",
        ["description"] = "description", ["tags"] = "tags", ["tag"] = "tags", ["version"] = "version",
    };

    public string? Spec { get; init; }
    public string? AgentId { get; init; }
    public string? Description { get; init; }
    public List<string>? Tags { get; init; }
    public string? Version { get; init; }

    public static SpecFile Load(string path)
    {
        var yaml = YamlFile.Load(path);
        if (yaml.Root is null)
        {
            return new SpecFile();
        }
        var map = yaml.Mapping(yaml.Root, "the spec file", s_keys);
        string? Text(string key) => map.TryGetValue(key, out var entry) ? yaml.String(entry.Value, key) : null;
        var result = new SpecFile
        {
            Spec = Text("spec"),
            AgentId = Text("agent-id"),
            Description = Text("description"),
            Version = Text("version"),
            Tags = map.TryGetValue("tags", out var tags) ? yaml.StringList(tags.Value, "tags") : null,
        };
        yaml.ThrowIfErrors();
        return result;
    }
}
