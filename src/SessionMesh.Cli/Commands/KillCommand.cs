using System.CommandLine;
using SessionMesh.Cli.Output;
using SessionMesh.Client;
using SessionMesh.Contracts;

namespace SessionMesh.Cli.Commands;

/// <summary><c>session-mesh kill</c>: terminate an agent and (by default) its sub-agents.</summary>
internal static class KillCommand
{
    public static Command Create(CliApp app)
    {
        var agentId = new Option<string>("--agent-id") { Description = "The agent to kill", HelpName = "ID", Required = true };
        var force = new Option<bool>("--force") { Description = "Immediate termination, no confirmation" };
        var yes = new Option<bool>("--yes", "-y") { Description = "Graceful kill without asking for confirmation" };
        var noCascade = new Option<bool>("--no-cascade") { Description = "Kill only this agent; its sub-agents stay (orphaned): --propagation orphan" };
        var propagation = new Option<string?>("--propagation") { Description = "cascade (default: the agent and its whole sub-tree) or orphan (the agent only)", HelpName = "POLICY" };
        propagation.AcceptOnlyFromAmong("cascade", "orphan");
        var reason = new Option<string?>("--reason") { Description = "Why; recorded with the kill and shown to the agent", HelpName = "TEXT" };
        var grace = new Option<int?>("--grace-period") { Description = "Seconds the agent gets to stop gracefully (server default 10)", HelpName = "SECONDS" };

        var command = new Command("kill", "Kill an agent (and its sub-agents). Asks first on a terminal unless --force or --yes; refuses without a terminal.")
        {
            agentId, force, yes, noCascade, propagation, reason, grace,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(noCascade) && result.GetValue(propagation) == "cascade")
            {
                result.AddError("--no-cascade contradicts --propagation cascade: give one of them");
            }
        });
        app.Examples(command,
            "session-mesh kill --agent-id 456 --force",
            "session-mesh kill --agent-id 456 --yes --reason \"stuck in a loop\"",
            "session-mesh kill --agent-id 456 --yes --no-cascade --grace-period 30",
            "session-mesh kill --agent-id 456 --yes --propagation orphan");
        app.SetAction(command, async (context, parseResult, cancellationToken) =>
        {
            var id = parseResult.GetRequiredValue(agentId);
            var options = new KillOptions
            {
                Force = parseResult.GetValue(force) ? true : null,
                Cascade = parseResult.GetValue(noCascade) || parseResult.GetValue(propagation) == "orphan" ? false : null,
                GracePeriod = parseResult.GetValue(grace),
                Reason = parseResult.GetValue(reason),
            };
            var confirmed = parseResult.GetValue(force) || parseResult.GetValue(yes);
            if (!confirmed && !context.Console.IsInputTerminal)
            {
                throw CliException.Usage($"refusing to kill agent {id} without confirmation: standard input is not a terminal. Pass --yes for a graceful kill or --force for an immediate one.");
            }
            using var client = context.CreateClient();
            if (!confirmed && !await ConfirmAsync(context, client, id, options, cancellationToken))
            {
                context.Error.WriteLine("Not killed.");
                return ExitCodes.Error;
            }
            var result = await client.KillAsync(id, options, cancellationToken);
            Print(context, result);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static async Task<bool> ConfirmAsync(CliContext context, SessionMeshClient client, string id, KillOptions options, CancellationToken cancellationToken)
    {
        // Look the agent up first: a typo fails with "not found" before the question, and the question can say what goes.
        var agent = await client.GetAgentAsync(id, cancellationToken);
        var children = agent.Children.Count;
        var scope = options.Cascade == false || children == 0 ? "" : $" and its sub-agents ({children} direct)";
        context.Error.Write($"Kill agent {agent.AgentId}{scope}? [y/N] ");
        context.Error.Flush();
        var answer = await context.Console.In.ReadLineAsync(cancellationToken);
        return answer?.Trim().ToLowerInvariant() is "y" or "yes";
    }

    private static void Print(CliContext context, KillResponse result)
    {
        if (context.Json)
        {
            context.Write(result, MeshJsonContext.Default.KillResponse);
            return;
        }
        var style = context.Style;
        var how = result.Force ? "immediately" : $"gracefully, {result.GracePeriod}s grace";
        context.Out.WriteLine(result.Status == "already_ended"
            ? $"Agent {style.Bold(result.AgentId)} had already ended."
            : $"Killing agent {style.Bold(result.AgentId)} ({how}): {style.Status(result.Status)}");
        if (result.Killed.Count > 0)
        {
            var table = new Table("AGENT", "STATUS", "SESSION", "COMMAND");
            foreach (var killed in result.Killed)
            {
                table.Add(killed.AgentId, style.Status(killed.Status), killed.SessionId, killed.CommandId);
            }
            table.Write(context.Out, style);
        }
        if (result.Orphaned.Count > 0)
        {
            context.Out.WriteLine($"Left running (orphaned): {string.Join(", ", result.Orphaned)}");
        }
    }
}
