namespace SessionMesh.Cli.Agent;

/// <summary>What <c>session-mesh agent</c> runs and how it stops it.</summary>
internal sealed record WrapperSettings
{
    public required string Command { get; init; }
    public required IReadOnlyList<string> Arguments { get; init; }
    /// <summary>Added to the child's inherited environment (the nesting variables).</summary>
    public required IReadOnlyDictionary<string, string> Environment { get; init; }
    /// <summary>SIGTERM-to-SIGKILL time when the wrapper itself stops the child (a signal to the wrapper, an interrupt).</summary>
    public TimeSpan Grace { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>A kill command's grace period when it carries none.</summary>
    public int DefaultKillGraceSeconds { get; init; } = 10;
    /// <summary>Run after the child's exit (or a signal to the wrapper), before the session is left: a lock released.</summary>
    public Func<CancellationToken, Task>? BeforeLeave { get; init; }
}
