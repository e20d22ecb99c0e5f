using SessionMesh.Contracts;

namespace SessionMesh.Mesh;

/// <summary>
/// One frame of an agent's command stream, as every transport carries it (SSE, long poll, MCP, the agent wrapper):
/// a command, a lease renewal, or the end.
/// </summary>
public abstract record CommandStreamFrame
{
    /// <summary>A command handed to the agent; <c>Sequence</c> is the stream's cursor.</summary>
    public sealed record Command(CommandView View) : CommandStreamFrame;

    /// <summary>The stream renewed the agent's lease.</summary>
    public sealed record Lease(HeartbeatResponse View) : CommandStreamFrame;

    /// <summary>The last frame: the session ended or the key stopped being valid.</summary>
    public sealed record End(StreamEnd View) : CommandStreamFrame;
}

/// <summary>One frame of an event watch: an event, a keep-alive after a quiet spell, or the end.</summary>
public abstract record EventStreamFrame
{
    /// <summary>An event; its revision is the watch's cursor.</summary>
    public sealed record Event(EventView View) : EventStreamFrame;

    /// <summary>Nothing happened for a while; keeps proxies from closing an idle connection.</summary>
    public sealed record Ping : EventStreamFrame;

    /// <summary>The last frame: the key the watch was opened with was revoked or expired.</summary>
    public sealed record End(WatchEnd View) : EventStreamFrame;
}
