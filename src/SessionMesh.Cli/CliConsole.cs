namespace SessionMesh.Cli;

/// <summary>What the CLI talks to: streams, whether they are terminals, and the environment. Tests pass their own.</summary>
internal sealed class CliConsole
{
    public required TextWriter Out { get; init; }
    public required TextWriter Error { get; init; }
    public required TextReader In { get; init; }
    public bool IsOutputTerminal { get; init; }
    public bool IsErrorTerminal { get; init; }
    public bool IsInputTerminal { get; init; }
    public required Func<string, string?> GetEnvironmentVariable { get; init; }
    /// <summary>Clock for relative times ("3s ago") in tables.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    public static CliConsole System => new()
    {
        Out = Console.Out,
        Error = Console.Error,
        In = Console.In,
        IsOutputTerminal = !Console.IsOutputRedirected,
        IsErrorTerminal = !Console.IsErrorRedirected,
        IsInputTerminal = !Console.IsInputRedirected,
        GetEnvironmentVariable = Environment.GetEnvironmentVariable,
    };
}
