namespace SessionMesh.Cli.Config;

/// <summary>One problem in a config file, at a line and column (1-based).</summary>
internal sealed record ConfigError(string File, long Line, long Column, string Message)
{
    public override string ToString() => $"{File}:{Line}:{Column}: {Message}";
}

/// <summary>A config file that cannot be used; carries every problem found.</summary>
internal sealed class ConfigException(IReadOnlyList<ConfigError> errors)
    : Exception(string.Join(Environment.NewLine, errors))
{
    public IReadOnlyList<ConfigError> Errors { get; } = errors;
}
