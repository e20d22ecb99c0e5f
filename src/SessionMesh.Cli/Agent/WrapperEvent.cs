using SessionMesh.Contracts;

namespace SessionMesh.Cli.Agent;

/// <summary>What the wrapper reacts to, one at a time, in the order it happened.</summary>
internal abstract record WrapperEvent
{
    /// <summary>A steer or message arrived over the command stream.</summary>
    public sealed record Directive(CommandView Command) : WrapperEvent;

    /// <summary>A child process exited (the current one, or one replaced by an interrupt).</summary>
    public sealed record ChildExited(ChildProcess Child) : WrapperEvent;

    /// <summary>The mesh killed the agent, or another join superseded its session.</summary>
    public sealed record Killed : WrapperEvent;

    /// <summary>The wrapper got SIGINT or SIGTERM.</summary>
    public sealed record Stop : WrapperEvent;

    /// <summary>The command stream failed beyond what reconnecting cures (a rejoin refused).</summary>
    public sealed record Failed(Exception Error) : WrapperEvent;
}
