using System.ComponentModel;
using SessionMesh.Contracts;
using ModelContextProtocol.Server;

namespace SessionMesh.Mcp;

// Parameter names are the API's snake_case field names, so a tool's schema reads like the HTTP API and SKILL.md.
#pragma warning disable IDE1006

/// <summary>The tools that only read the mesh: discovery, the registry, the topology and the event log.</summary>
[McpServerToolType]
internal sealed class MeshReadTools
{
    [McpServerTool(Name = "list_sessions", Title = "List sessions", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false)]
    [Description("Lists agent sessions by status, like GET /api/session-mesh/alive. Use it to see which agents are alive before steering or killing. A `stalled` agent is alive but has reported no progress for its stall_after: look at its logs (tail_logs) and usage (get_usage), then steer or kill it. Returns one page; pass next_cursor back as cursor for the next.")]
    public static Task<Page<SessionView>> ListSessionsAsync(
        IMeshOperations mesh,
        [Description("Status filter: active, idle, stale, alive (default: active + idle + stalled), stalled, ended, orphaned or all.")] string? filter = null,
        [Description("Only agents registered for this specialization.")] string? specialization = null,
        [Description("Label selectors, each key=value; all must match.")] string[]? labels = null,
        [Description("Only children of this agent.")] string? parent_id = null,
        [Description("Only this agent.")] string? agent_id = null,
        [Description("The cluster; defaults to the key's (another one needs an admin key).")] string? cluster = null,
        [Description("Page size, 1..1000 (default 100).")] int? limit = null,
        [Description("The next_cursor of the previous page.")] string? cursor = null,
        CancellationToken cancellationToken = default) =>
        mesh.ListSessionsAsync(new AliveQuery
        {
            Filter = filter,
            Specialization = specialization,
            Labels = labels,
            ParentId = parent_id,
            AgentId = agent_id,
            Cluster = cluster,
            Limit = limit,
            Cursor = cursor,
        }, cancellationToken);

    [McpServerTool(Name = "get_agent", Title = "Get an agent", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false)]
    [Description("One agent: its open session and status, labels, specializations, its sub-tree of spawned agents, and its most recent commands (steers, messages, kills) with where each stands.")]
    public static async Task<AgentDetails> GetAgentAsync(
        IMeshOperations mesh,
        [Description("The agent's id.")] string agent_id,
        [Description("How many recent commands to include, newest first, 0..50 (default 10).")] int recent_commands = 10,
        CancellationToken cancellationToken = default)
    {
        var agent = await mesh.GetAgentAsync(agent_id, cancellationToken);
        var tree = await mesh.GetAgentTreeAsync(agent_id, cancellationToken);
        var commands = await RecentCommands.ReadAsync(mesh, agent.AgentId, agent.Cluster, Math.Clamp(recent_commands, 0, 50), cancellationToken);
        return new AgentDetails(agent, tree, commands);
    }

    [McpServerTool(Name = "find_agents", Title = "Find agents by specialization", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false)]
    [Description("Finds agents registered for a specialization (a capability such as image-processing), alive ones first and least loaded first: the first result is the best one to hand work to.")]
    public static Task<Page<RegistryEntry>> FindAgentsAsync(
        IMeshOperations mesh,
        [Description("The specialization to look for.")] string specialization,
        [Description("Only agents that are alive now (default true).")] bool alive = true,
        [Description("Page size, 1..1000 (default 100).")] int? limit = null,
        [Description("The next_cursor of the previous page.")] string? cursor = null,
        CancellationToken cancellationToken = default) =>
        mesh.FindAgentsAsync(specialization, alive, limit, cursor, cancellationToken);

    [McpServerTool(Name = "get_topology", Title = "Get the topology", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false)]
    [Description("The agents of the key's cluster with their statuses, and the parent→child edges of who spawned whom.")]
    public static Task<TopologyView> GetTopologyAsync(IMeshOperations mesh, CancellationToken cancellationToken = default) =>
        mesh.GetTopologyAsync(cancellationToken);

    [McpServerTool(Name = "watch_events", Title = "Watch events", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false)]
    [Description("Every state change after a revision (sessions joining and ending, commands queued, delivered and acked, registrations), oldest first, at most `limit`. With wait_seconds, waits that long for the first new event when there is none yet. Call again with next_since to continue where this left off.")]
    public static Task<EventBatch> WatchEventsAsync(
        IMeshOperations mesh,
        [Description("Return events after this revision (default 0: the oldest retained events). Use next_since of the previous call.")] long since = 0,
        [Description("At most this many events, 1..1000 (default 100).")] int limit = 100,
        [Description("Wait up to this many seconds, 0..60, for an event when there is none after since (default 0: answer at once).")] int wait_seconds = 0,
        CancellationToken cancellationToken = default) =>
        EventWatch.ReadAsync(mesh, since, limit, wait_seconds, cancellationToken);

    [McpServerTool(Name = "tail_logs", Title = "Tail an agent's logs", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false)]
    [Description("The last lines of an agent's output (stdout and stderr of the process run by `session-mesh agent`), oldest first, like `session-mesh logs`. Use it to see what an agent is doing or why it stalled. `dropped` and `evicted` count lines the mesh did not keep. Empty when the agent ships no logs.")]
    public static Task<LogTailView> TailLogsAsync(
        IMeshOperations mesh,
        [Description("The agent's id.")] string agent_id,
        [Description("How many of the last lines, 1..1000 (default 100).")] int tail = LogTail.Default,
        CancellationToken cancellationToken = default) =>
        mesh.TailLogsAsync(agent_id, LogTail.Check(tail), cancellationToken);

    [McpServerTool(Name = "get_usage", Title = "Get an agent's usage and budget", ReadOnly = true, Destructive = false, Idempotent = true, OpenWorld = false)]
    [Description("An agent's usage counters (tokens, tool_calls, turns, cost_usd) as its sessions reported them: `own` is what it reported itself, `rolled_up` adds every descendant's reports. With a budget: `budget`, `charged`, `left`, `used_share` (largest share of a limit used, 0..1) and `alert` (warned, exceeded); past its budget the mesh kills the sub-tree. With tree=true, `children` gives the same for each child, down the tree.")]
    public static Task<UsageView> GetUsageAsync(
        IMeshOperations mesh,
        [Description("The agent's id.")] string agent_id,
        [Description("Include each descendant's usage under `children` (default false).")] bool tree = false,
        CancellationToken cancellationToken = default) =>
        mesh.GetUsageAsync(agent_id, tree, cancellationToken);
}
