using System.ComponentModel;
using System.Text.Json;
using ModelContextProtocol.Server;
using SessionMesh.Contracts;
using SessionMesh.Mesh;

namespace SessionMesh.Mcp;

// Parameter names are the API's snake_case field names, so a tool's schema reads like the HTTP API and SKILL.md.
#pragma warning disable IDE1006

/// <summary>The tools that change the mesh: registering, steering, messaging, killing and minting keys.</summary>
[McpServerToolType]
internal sealed class MeshWriteTools
{
    /// <summary>The longest a tool waits for an ack: well inside the request timeouts of MCP clients.</summary>
    internal const int MaxWaitSeconds = 120;

    [McpServerTool(Name = "register_specialization", Title = "Register a specialization", ReadOnly = false, Destructive = false, Idempotent = true, OpenWorld = false)]
    [Description("Registers a specialization (a capability others can find with find_agents) for an agent. An agent that never joined is created, not alive. Registering the same thing again changes nothing.")]
    public static Task<RegistryEntry> RegisterSpecializationAsync(
        IMeshOperations mesh,
        [Description("The agent that has the capability.")] string agent_id,
        [Description("The specialization's name, e.g. data-analysis.")] string specialization,
        [Description("What the agent does with it.")] string? description = null,
        [Description("Tags for finer matching.")] string[]? tags = null,
        [Description("A version of the capability.")] string? version = null,
        [Description("The cluster; defaults to the key's.")] string? cluster = null,
        CancellationToken cancellationToken = default) =>
        mesh.RegisterAsync(new RegisterRequest
        {
            AgentId = agent_id,
            Specialization = specialization,
            Description = description,
            Tags = tags?.ToList(),
            Version = version,
            Cluster = cluster,
        }, cancellationToken);

    [McpServerTool(Name = "steer_agent", Title = "Steer an agent", ReadOnly = false, Destructive = false, Idempotent = false, OpenWorld = false)]
    [Description("Sends a steering directive (a new direction, an instruction) to a live agent over its command stream; a `stalled` agent (alive, no progress for its stall_after) can be steered like any live one. With wait_seconds, waits that long for the agent to ack, reject or fail it and returns where it stands then (status acked, rejected, failed, expired, or still queued/delivered).")]
    public static async Task<CommandView> SteerAgentAsync(
        IMeshOperations mesh,
        [Description("The agent to steer.")] string agent_id,
        [Description("The directive, 1..4000 characters.")] string direction,
        [Description("inject (default: delivered in order), interrupt (stop and take this now) or enqueue (after the current work).")] string? mode = null,
        [Description("Any JSON handed to the agent with the directive.")] JsonElement? payload = null,
        [Description("Seconds it may wait undelivered before it expires.")] int? ttl = null,
        [Description("Queue it for an agent that is not alive now, instead of failing with agent_not_alive.")] bool? queue_if_offline = null,
        [Description("The cluster; defaults to the key's.")] string? cluster = null,
        [Description("Wait up to this many seconds (0..120) for the agent's ack; 0 (default) returns once queued.")] int wait_seconds = 0,
        CancellationToken cancellationToken = default)
    {
        var command = await mesh.SteerAsync(new SteerRequest
        {
            AgentId = agent_id,
            Direction = direction,
            Mode = mode,
            Payload = payload,
            Ttl = ttl,
            QueueIfOffline = queue_if_offline,
            Cluster = cluster,
        }, cancellationToken);
        return await WaitAsync(mesh, command, wait_seconds, cancellationToken);
    }

    [McpServerTool(Name = "send_message", Title = "Send an agent a message", ReadOnly = false, Destructive = false, Idempotent = false, OpenWorld = false)]
    [Description("Sends an agent a message (text, optional JSON payload), delivered on its command stream like a steer. Use `from` when one agent speaks to another. With wait_seconds, waits for the ack like steer_agent.")]
    public static async Task<CommandView> SendMessageAsync(
        IMeshOperations mesh,
        [Description("The agent to send it to.")] string agent_id,
        [Description("The message.")] string text,
        [Description("The sending agent's id.")] string? from = null,
        [Description("Any JSON handed to the agent with the message.")] JsonElement? payload = null,
        [Description("Seconds it may wait undelivered before it expires.")] int? ttl = null,
        [Description("Queue it for an agent that is not alive now, instead of failing with agent_not_alive.")] bool? queue_if_offline = null,
        [Description("Wait up to this many seconds (0..120) for the agent's ack; 0 (default) returns once queued.")] int wait_seconds = 0,
        CancellationToken cancellationToken = default)
    {
        var command = await mesh.SendMessageAsync(agent_id, new MessageRequest
        {
            Text = text,
            From = from,
            Payload = payload,
            Ttl = ttl,
            QueueIfOffline = queue_if_offline,
        }, cancellationToken);
        return await WaitAsync(mesh, command, wait_seconds, cancellationToken);
    }

    [McpServerTool(Name = "kill_agent", Title = "Kill an agent", ReadOnly = false, Destructive = true, Idempotent = true, OpenWorld = false)]
    [Description("Kills an agent: a graceful stop (the agent gets grace_period seconds to finish) or, with force, at once; by default its sub-agents too (cascade). Its session ends 'killed'. Cannot be undone: make sure of the agent_id first (get_agent).")]
    public static Task<KillResponse> KillAgentAsync(
        IMeshOperations mesh,
        [Description("The agent to kill.")] string agent_id,
        [Description("Stop at once instead of gracefully (default false).")] bool force = false,
        [Description("Kill its sub-agents too (default true); false leaves them running, orphaned.")] bool cascade = true,
        [Description("Seconds the agent gets to stop gracefully (server default 10).")] int? grace_period = null,
        [Description("Why, recorded with the kill and shown to the agent.")] string? reason = null,
        CancellationToken cancellationToken = default) =>
        mesh.KillAsync(agent_id, new KillRequest(force, cascade, grace_period, reason), cancellationToken);

    [McpServerTool(Name = "create_session_key", Title = "Create a session key", ReadOnly = false, Destructive = false, Idempotent = false, OpenWorld = false)]
    [Description("Mints a short-lived session key, e.g. for a sub-agent you spawn: scopes from read, agent, steer, kill, register, keys, admin; optionally bound to one agent_id. The secret (session_key) is in this answer only: hand it to the agent as SESSION_API_KEY. A key can only grant scopes its creator has.")]
    public static Task<CreatedKeyView> CreateSessionKeyAsync(
        IMeshOperations mesh,
        [Description("Scopes to grant (default: the creator's own, without admin).")] string[]? scopes = null,
        [Description("Lifetime in seconds (default: the server's).")] int? ttl = null,
        [Description("Bind the key to this agent: it can act only as that agent.")] string? agent_id = null,
        [Description("The cluster; defaults to the creator's.")] string? cluster = null,
        [Description("A name to recognise the key by in lists.")] string? name = null,
        CancellationToken cancellationToken = default) =>
        mesh.CreateKeyAsync(new CreateKeyRequest
        {
            Scopes = scopes?.ToList(),
            Ttl = ttl,
            AgentId = agent_id,
            Cluster = cluster,
            Name = name,
        }, cancellationToken);

    private static async Task<CommandView> WaitAsync(IMeshOperations mesh, CommandView command, int waitSeconds, CancellationToken cancellationToken)
    {
        if (waitSeconds < 0 || waitSeconds > MaxWaitSeconds)
        {
            throw MeshException.Invalid("wait_seconds", $"'wait_seconds' must be 0..{MaxWaitSeconds}.");
        }
        return waitSeconds == 0 ? command : await mesh.GetCommandAsync(command.CommandId, waitSeconds, cancellationToken);
    }
}
