using System.CommandLine;
using System.Globalization;
using SessionMesh.Cli.Output;
using SessionMesh.Contracts;
using SessionMesh.Model;

namespace SessionMesh.Cli.Commands;

/// <summary><c>session-mesh usage</c>: an agent's usage, own and rolled up over its sub-tree, against its budget.</summary>
internal static class UsageCommand
{
    public static Command Create(CliApp app)
    {
        var agentId = new Option<string>("--agent-id") { Description = "The agent", HelpName = "ID", Required = true };
        var tree = new Option<bool>("--tree") { Description = "One row per agent of the sub-tree" };
        var command = new Command("usage", "Show an agent's usage (tokens, tool calls, turns, cost), own and with its sub-agents, against its budget.") { agentId, tree };
        app.Examples(command,
            "session-mesh usage --agent-id orchestrator",
            "session-mesh usage --agent-id orchestrator --tree",
            "session-mesh usage --agent-id orchestrator --output json");
        app.SetAction(command, async (context, parseResult, cancellationToken) =>
        {
            using var client = context.CreateClient();
            var usage = await client.GetUsageAsync(parseResult.GetValue(agentId)!, parseResult.GetValue(tree), cancellationToken);
            if (context.Json)
            {
                context.Write(usage, MeshJsonContext.Default.UsageView);
                return ExitCodes.Ok;
            }
            var table = new Table(["AGENT", "STATUS", "OWN", "WITH SUB-AGENTS", "BUDGET", "LEFT", "USED"]);
            void Add(UsageView row, int depth)
            {
                table.Add([
                    new string(' ', 2 * depth) + context.Style.Bold(row.AgentId),
                    context.Style.Status(row.Status?.ToWire()),
                    Counters(row.Own),
                    Counters(row.RolledUp),
                    Limits(row.Budget),
                    Limits(row.Left),
                    row.UsedShare is { } share ? UsedText(share, row.Alert, context.Style) : null]);
                foreach (var child in row.Children ?? [])
                {
                    Add(child, depth + 1);
                }
            }
            Add(usage, 0);
            table.Write(context.Out, context.Style);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static string Counters(AgentProgress usage) => ProgressText.Line(usage with { Activity = null }) ?? "-";

    private static string? Limits(AgentBudget? budget) =>
        budget is null ? null : ProgressText.Counters(budget.Tokens, budget.ToolCalls, budget.Turns, budget.CostUsd, budget.Runtime, abbreviate: false);

    private static string UsedText(double share, string? alert, Ansi style)
    {
        var text = (100 * share).ToString("0", CultureInfo.InvariantCulture) + "%";
        return alert switch
        {
            "exceeded" => style.Red(text + " exceeded"),
            "warned" => style.Yellow(text),
            _ => text,
        };
    }
}
