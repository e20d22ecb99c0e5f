using System.CommandLine;
using SessionMesh.Cli.Output;
using SessionMesh.Contracts;

namespace SessionMesh.Cli.Commands;

/// <summary><c>session-mesh topology</c>: agents and their parent→child edges.</summary>
internal static class TopologyCommand
{
    public static Command Create(CliApp app)
    {
        var format = new Option<string?>("--format") { Description = "tree (default on a terminal), json (default when piped or with --output json), dot (Graphviz) or mermaid", HelpName = "FORMAT" };
        format.AcceptOnlyFromAmong("tree", "dot", "mermaid", "json");
        var command = new Command("topology", "Show who spawned whom, with each agent's status.") { format };
        app.Examples(command,
            "session-mesh topology",
            "session-mesh topology --format dot | dot -Tsvg > mesh.svg",
            "session-mesh topology --format mermaid",
            "session-mesh topology --format json");
        app.SetAction(command, async (context, parseResult, cancellationToken) =>
        {
            var chosen = parseResult.GetValue(format) ?? (context.Json ? "json" : "tree");
            using var client = context.CreateClient();
            if (chosen is "dot" or "mermaid")
            {
                var text = await client.GetTopologyTextAsync(chosen, cancellationToken);
                context.Out.Write(text.EndsWith('\n') ? text : text + "\n");
                return ExitCodes.Ok;
            }
            var topology = await client.GetTopologyAsync(cancellationToken);
            if (chosen == "json")
            {
                context.Write(topology, MeshJsonContext.Default.TopologyView);
                return ExitCodes.Ok;
            }
            if (topology.Nodes.Count == 0)
            {
                context.Out.WriteLine($"No agents in cluster {topology.Cluster}.");
                return ExitCodes.Ok;
            }
            var style = context.Style;
            var parents = topology.Edges.GroupBy(e => e.To).ToDictionary(g => g.Key, g => g.First().From, StringComparer.Ordinal);
            var roots = TreeRenderer.Build(
                topology.Nodes,
                n => n.AgentId,
                n => n.ParentId ?? (parents.TryGetValue(n.AgentId, out var p) ? p : null),
                n =>
                {
                    var label = $"{style.Bold(n.AgentId)} {style.Status(n.Status ?? (n.Alive ? "alive" : "declared"))}";
                    if (n.Orphaned)
                    {
                        label += " " + style.Red("orphaned");
                    }
                    if (n.Specializations.Count > 0)
                    {
                        label += $" [{string.Join(",", n.Specializations)}]";
                    }
                    return label;
                });
            TreeRenderer.Write(context.Out, roots);
            return ExitCodes.Ok;
        });
        return command;
    }
}
