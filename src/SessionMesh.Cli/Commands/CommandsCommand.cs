using System.CommandLine;
using System.Text.Json;
using SessionMesh.Cli.Output;
using SessionMesh.Contracts;

namespace SessionMesh.Cli.Commands;

/// <summary>
/// <c>session-mesh commands --agent-id ID</c> (an agent's directives, newest first) and <c>session-mesh command get ID [--wait]</c>.
/// </summary>
internal static class CommandsCommand
{
    private static readonly string[] s_finalStatuses = ["acked", "rejected", "failed", "expired"];

    /// <summary>True once the agent has answered the command (or it expired): waiting longer changes nothing.</summary>
    public static bool IsFinal(CommandView command) => s_finalStatuses.Contains(command.Status);

    public static Command CreateList(CliApp app)
    {
        var agentId = new Option<string>("--agent-id") { Description = "The agent whose commands to list", HelpName = "ID", Required = true };
        var limit = new Option<int>("--limit") { Description = "At most this many, newest first (default 50)", HelpName = "N", DefaultValueFactory = _ => 50 };
        var command = new Command("commands", "List the steers, kills and messages queued for an agent, newest first, with where each stands (from the retained event history).")
        {
            agentId, limit,
        };
        app.Examples(command, "session-mesh commands --agent-id 123", "session-mesh commands --agent-id 123 --output json | jq '.items[].status'");
        app.SetAction(command, async (context, parseResult, cancellationToken) =>
        {
            var agent = parseResult.GetRequiredValue(agentId);
            using var client = context.CreateClient();
            // Fails with 404 agent_not_found for an unknown agent rather than printing an empty list.
            await client.GetAgentAsync(agent, cancellationToken);
            // There is no list endpoint for an agent's commands: every command.* event carries the command as it then
            // stood, so the latest event of each command is where it stands now.
            var latest = new Dictionary<string, CommandView>(StringComparer.Ordinal);
            long since = 0;
            while (true)
            {
                var page = await client.ListEventsAsync(since, 1000, cancellationToken);
                foreach (var item in page.Items)
                {
                    since = item.Revision;
                    if (item.AgentId == agent && item.Type.StartsWith("command.", StringComparison.Ordinal) && item.Data is { } data
                        && data.Deserialize(MeshJsonContext.Default.CommandView) is { } view)
                    {
                        latest[view.CommandId] = view;
                    }
                }
                if (page.Items.Count == 0)
                {
                    break;
                }
            }
            var items = latest.Values.OrderByDescending(c => c.Sequence).Take(parseResult.GetValue(limit)).ToList();
            if (context.Json)
            {
                context.Write(new Page<CommandView> { Items = items }, MeshJsonContext.Default.PageCommandView);
                return ExitCodes.Ok;
            }
            if (items.Count == 0)
            {
                context.Out.WriteLine($"No commands for agent {agent} in the retained history.");
                return ExitCodes.Ok;
            }
            var now = context.Console.Time.GetUtcNow();
            var table = new Table(context.Wide ? ["COMMAND", "KIND", "STATUS", "CREATED", "WHAT", "MODE", "DELIVERED", "COMPLETED", "BY"] : ["COMMAND", "KIND", "STATUS", "CREATED", "WHAT"]);
            foreach (var c in items)
            {
                string?[] row = [c.CommandId, c.Kind, context.Style.Status(c.Status), Times.Ago(c.CreatedAt, now), What(c)];
                table.Add(context.Wide
                    ? [.. row, c.Mode, c.DeliveredAt is { } d ? Times.Ago(d, now) : null, c.CompletedAt is { } done ? Times.Ago(done, now) : null, c.CreatedBy]
                    : row);
            }
            table.Write(context.Out, context.Style);
            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command CreateGet(CliApp app)
    {
        var group = new Command("command", "One command: where a steer, kill or message stands.");
        var id = new Argument<string>("command_id") { Description = "The command's id (printed by steer, kill, message)", HelpName = "COMMAND_ID" };
        var wait = new Option<bool>("--wait") { Description = "Wait until the agent acks, rejects or fails it (or it expires)" };
        var timeout = new Option<int>("--timeout") { Description = "With --wait: give up after this many seconds (default 60)", HelpName = "SECONDS", DefaultValueFactory = _ => 60 };
        var get = new Command("get", "Show where a command stands.") { id, wait, timeout };
        group.Subcommands.Add(get);
        app.Examples(get, "session-mesh command get cmd_0123456789", "session-mesh command get cmd_0123456789 --wait --timeout 30");
        group.SetAction(parseResult =>
        {
            app.Console.Error.WriteLine("session-mesh: command needs a subcommand: command get ID [--wait]. Run 'session-mesh command --help'.");
            return ExitCodes.Usage;
        });
        app.SetAction(get, async (context, parseResult, cancellationToken) =>
        {
            var commandId = parseResult.GetRequiredValue(id);
            using var client = context.CreateClient();
            if (!parseResult.GetValue(wait))
            {
                Print(context, await client.GetCommandAsync(commandId, cancellationToken));
                return ExitCodes.Ok;
            }
            var seconds = parseResult.GetValue(timeout);
            var command = await WaitAsync(client, commandId, TimeSpan.FromSeconds(seconds), cancellationToken);
            Print(context, command);
            if (!IsFinal(command))
            {
                context.Error.WriteLine($"session-mesh: command {command.CommandId} is still '{command.Status}' after {seconds}s; the agent has not answered it.");
                return ExitCodes.Error;
            }
            return command.Status == "acked" ? ExitCodes.Ok : ExitCodes.Error;
        });
        return group;
    }

    /// <summary>Waits (server-side, up to 300 s a call) until the command is final or <paramref name="timeout"/> passes.</summary>
    public static async Task<CommandView> WaitAsync(Client.SessionMeshClient client, string commandId, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var time = client.Options.TimeProvider;
        var deadline = time.GetUtcNow() + timeout;
        while (true)
        {
            var left = Math.Clamp((deadline - time.GetUtcNow()).TotalSeconds, 0, 300);
            var command = await client.GetCommandAsync(commandId, (int)Math.Ceiling(left), cancellationToken);
            if (IsFinal(command) || time.GetUtcNow() >= deadline)
            {
                return command;
            }
        }
    }

    /// <summary>A command as JSON/YAML, or described (steer, message, command get, get command).</summary>
    public static void Print(CliContext context, CommandView command)
    {
        if (context.Json)
        {
            context.Write(command, MeshJsonContext.Default.CommandView);
            return;
        }
        var now = context.Console.Time.GetUtcNow();
        new Details()
            .Field("Command", command.CommandId)
            .Field("Kind", command.Kind)
            .Field("Agent", context.Style.Bold(command.AgentId))
            .Field("Status", context.Style.Status(command.Status))
            .Field("What", What(command))
            .Field("Mode", command.Mode)
            .Field("From", command.From)
            .Field("Created", $"{Times.Stamp(command.CreatedAt)} ({Times.Ago(command.CreatedAt, now)}){(command.CreatedBy is null ? "" : $" by {command.CreatedBy}")}")
            .Field("Delivered", command.DeliveredAt is { } d ? Times.Stamp(d) : null)
            .Field("Completed", command.CompletedAt is { } c ? Times.Stamp(c) : null)
            .Field("Expires", command.ExpiresAt is { } e ? Times.Stamp(e) : null)
            .Field("Payload", command.Payload?.GetRawText())
            .Field("Result", command.Result?.GetRawText())
            .Write(context.Out);
    }

    private static string? What(CommandView command) => command.Kind switch
    {
        "steer" => command.Direction,
        "message" => command.Text,
        "kill" => command.Reason,
        _ => command.Direction ?? command.Text ?? command.Reason,
    };
}
