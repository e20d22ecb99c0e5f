namespace SessionMesh.Mesh;

/// <summary>Limits and defaults of the mesh (configuration section <c>Mesh</c>).</summary>
public sealed class MeshOptions
{
    public const string Section = "Mesh";

    /// <summary>Session TTL in seconds when a join gives none.</summary>
    public int DefaultSessionTtl { get; set; } = 30;

    /// <summary>The deepest parent chain a join may have (an agent with no parent has depth 0).</summary>
    public int MaxDepth { get; set; } = 8;

    /// <summary>How many live children one agent may have.</summary>
    public int MaxChildren { get; set; } = 64;

    /// <summary>Key lifetime in seconds when a request gives none.</summary>
    public int DefaultKeyTtl { get; set; } = 3600;

    /// <summary>The longest key lifetime in seconds that may be asked for.</summary>
    public int MaxKeyTtl { get; set; } = 365 * 24 * 3600;

    /// <summary>Seconds an undelivered steer or message waits before it expires, when the request gives no ttl.</summary>
    public int DefaultCommandTtl { get; set; } = 3600;

    /// <summary>Seconds a graceful kill waits for the agent before the mesh ends its session, when the request gives none.</summary>
    public int DefaultGracePeriod { get; set; } = 10;

    /// <summary>
    /// Agents' streams take newly committed commands from memory (<see cref="FreshCommands"/>) instead of reading the
    /// store (on by default; with replicas streams always read the store). Off reads the store at every wake-up.
    /// </summary>
    public bool StreamCommandsFromMemory { get; set; } = true;

    /// <summary>The share of a budget (0..1) past which the mesh warns the agent, once.</summary>
    public double BudgetWarnAt { get; set; } = 0.8;

    /// <summary>
    /// What a join asking for more budget than its ancestors have left gets: <c>clip</c> (the budget is cut to what is
    /// left, and the answer names the counters cut) or <c>refuse</c> (409 <c>budget_exceeded</c>).
    /// </summary>
    public string BudgetOverask { get; set; } = "clip";

    /// <summary>How many events are kept for <c>/events?since=</c>; older ones are compacted away.</summary>
    public long EventRetention { get; set; } = 100_000;

    /// <summary>Events older than this are compacted away.</summary>
    public TimeSpan EventRetentionAge { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// The most bytes of events kept, each counted with the command payload it carries; the oldest beyond it are
    /// compacted away.
    /// </summary>
    public long EventRetentionBytes { get; set; } = 128L * 1024 * 1024;

    /// <summary>Completed commands (acked, rejected, failed, expired) are deleted this long after they completed.</summary>
    public TimeSpan CommandRetentionAge { get; set; } = TimeSpan.FromHours(24);

    /// <summary>The most bytes of completed commands kept; the longest completed beyond it are deleted.</summary>
    public long CommandRetentionBytes { get; set; } = 128L * 1024 * 1024;

    /// <summary>How often retention runs (events and completed commands deleted, the file shrunk back).</summary>
    public TimeSpan RetentionInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How many of the latest events are kept in memory to feed watchers without a store query.</summary>
    public int RecentEvents { get; set; } = 10_000;

    /// <summary>The bytes of event data kept in memory for watchers at most (with <see cref="RecentEvents"/>, whichever is fewer).</summary>
    public long RecentEventsBytes { get; set; } = Mesh.RecentEvents.DefaultMaxBytes;

    /// <summary>How often the sweeper looks for lapsed leases.</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How often renewed leases (kept in memory) are written to the store, in one transaction. A crash loses at most
    /// this much of last-seen, load and idleness; never a session before its TTL (see <see cref="LeaseTable"/>).
    /// </summary>
    public TimeSpan LeaseCheckpointInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The largest share of the open sessions one sweep expires: a burst above it (and above
    /// <see cref="ExpiryBurstFloor"/> sessions) is held back and logged, and only this share expires per sweep, so a
    /// fault that stops renewals for the whole fleet (a partitioned replica, a stalled checkpoint) does not end it at
    /// once. 1 turns the hold-back off.
    /// </summary>
    public double ExpiryBurstFraction { get; set; } = 0.5;

    /// <summary>How many expiries one sweep may always apply, whatever <see cref="ExpiryBurstFraction"/> says of a small fleet.</summary>
    public const int ExpiryBurstFloor = 100;

    /// <summary>The largest free-form JSON a command may carry (a steer's or message's <c>payload</c>, an ack's <c>result</c>), in bytes written compactly.</summary>
    public int MaxPayloadBytes { get; set; } = 64 * 1024;

    /// <summary>
    /// The byte budget of one page (a list, an event page, a long poll): a page ends early, with a cursor, before its
    /// items would pass this many bytes of JSON; it always holds at least one item.
    /// </summary>
    public int MaxPageBytes { get; set; } = 1024 * 1024;

    /// <summary>The most agents one <c>GET /topology</c> answer holds (and the largest <c>max_agents</c>); a larger cluster is answered in part, marked <c>truncated</c>.</summary>
    public int MaxTopologyAgents { get; set; } = 10_000;

    /// <summary>The most lines of output kept per agent for <c>GET /agents/{id}/logs</c> (with <see cref="LogTailBytes"/>, whichever is fewer).</summary>
    public int LogTailLines { get; set; } = 1000;

    /// <summary>The most bytes of output kept per agent.</summary>
    public long LogTailBytes { get; set; } = 256 * 1024;

    /// <summary>How many agents' output is kept at most; past it, the least recently written agent's lines go.</summary>
    public int LogTailAgents { get; set; } = 1000;
}

/// <summary>Fixed bounds of the API.</summary>
public static class MeshLimits
{
    public const int MinTtl = 1;
    public const int MaxTtl = 86400;
    public const int MaxRuntime = 30 * 86400;
    public const int DefaultPageSize = 100;
    public const int MaxPageSize = 1000;
    public const int MaxLabels = 64;
    public const int MaxLabelValueLength = 256;
    public const int MaxSpecializationsPerJoin = 64;
    public const int MaxTags = 32;
    public const int MaxTagLength = 64;
    public const int MaxDescriptionLength = 1000;
    public const int MaxVersionLength = 64;
    public const int MaxNameLength = 128;
    public const int MaxDirectiveLength = 4000;
    public const int MaxCommandTtl = 7 * 86400;
    public const int MaxGracePeriod = 3600;
    public const int MaxReasonLength = 1000;
    public const int MaxActivityLength = 200;
    public const int MaxStallAfter = 7 * 86400;

    /// <summary>The deepest nesting of objects and arrays a free-form JSON field (<c>payload</c>, <c>result</c>) may have.</summary>
    public const int MaxJsonDepth = 32;
}
