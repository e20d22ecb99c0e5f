using System.Text;
using SessionMesh.Contracts;

namespace SessionMesh.Mesh;

/// <summary>Renders a topology as Graphviz DOT or a Mermaid flowchart: nodes coloured by status, orphans marked.</summary>
public static class TopologyRenderer
{
    private static string ColourOf(TopologyNode node) => node.Status switch
    {
        "active" => "palegreen",
        "idle" => "lightblue",
        "stale" => "khaki",
        null => "white",
        _ => "lightgrey",
    };

    /// <summary>The status as a person reads it: "never joined", or "active, terminating" inside a kill's grace period.</summary>
    private static string StatusText(TopologyNode node) =>
        (node.Status ?? "never joined") + (node.TerminatingUntil is null ? "" : ", terminating");

    private static string Label(TopologyNode node) =>
        $"{node.AgentId}\\n{StatusText(node)}{(node.Orphaned ? " (orphaned)" : "")}";

    public static string ToDot(TopologyView topology)
    {
        var dot = new StringBuilder();
        dot.Append("digraph \"").Append(Escape(topology.Cluster)).AppendLine("\" {");
        dot.AppendLine("  node [shape=box, style=filled];");
        if (topology.Truncated == true)
        {
            dot.AppendLine("  // truncated: the cluster has more agents than shown (max_agents)");
        }
        foreach (var node in topology.Nodes)
        {
            dot.Append("  \"").Append(Escape(node.AgentId)).Append("\" [label=\"").Append(Escape(Label(node)).Replace("\\\\n", "\\n", StringComparison.Ordinal))
                .Append("\", fillcolor=").Append(ColourOf(node));
            if (node.Orphaned)
            {
                dot.Append(", style=\"filled,dashed\", color=red");
            }
            dot.AppendLine("];");
        }
        foreach (var edge in topology.Edges)
        {
            dot.Append("  \"").Append(Escape(edge.From)).Append("\" -> \"").Append(Escape(edge.To)).AppendLine("\";");
        }
        dot.AppendLine("}");
        return dot.ToString();
    }

    public static string ToMermaid(TopologyView topology)
    {
        var ids = topology.Nodes.Select((n, i) => (n.AgentId, Id: "n" + i)).ToDictionary(x => x.AgentId, x => x.Id, StringComparer.Ordinal);
        var mermaid = new StringBuilder("flowchart TD\n");
        if (topology.Truncated == true)
        {
            mermaid.AppendLine("  %% truncated: the cluster has more agents than shown (max_agents)");
        }
        foreach (var node in topology.Nodes)
        {
            var label = $"{node.AgentId}<br/>{StatusText(node)}{(node.Orphaned ? " (orphaned)" : "")}".Replace("\"", "#quot;", StringComparison.Ordinal);
            mermaid.Append("  ").Append(ids[node.AgentId]).Append("[\"").Append(label).Append("\"]:::").AppendLine(node.Orphaned ? "orphaned" : node.Status ?? "unknown");
        }
        foreach (var edge in topology.Edges)
        {
            mermaid.Append("  ").Append(ids[edge.From]).Append(" --> ").AppendLine(ids[edge.To]);
        }
        mermaid.AppendLine("  classDef active fill:#98fb98");
        mermaid.AppendLine("  classDef idle fill:#add8e6");
        mermaid.AppendLine("  classDef stale fill:#f0e68c");
        mermaid.AppendLine("  classDef orphaned fill:#98fb98,stroke:#f00,stroke-dasharray:5 5");
        mermaid.AppendLine("  classDef expired fill:#d3d3d3");
        mermaid.AppendLine("  classDef left fill:#d3d3d3");
        mermaid.AppendLine("  classDef killed fill:#d3d3d3");
        mermaid.AppendLine("  classDef superseded fill:#d3d3d3");
        mermaid.AppendLine("  classDef unknown fill:#ffffff");
        return mermaid.ToString();
    }

    private static string Escape(string text) => text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);
}
