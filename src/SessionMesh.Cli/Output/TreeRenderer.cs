namespace SessionMesh.Cli.Output;

/// <summary>Draws a forest with box-drawing branches, the way `tree` and `kubectl tree` do.</summary>
internal static class TreeRenderer
{
    public sealed record Node(string Id, string Label, List<Node> Children);

    /// <summary>Builds a forest from (id, parent) pairs; a node whose parent is not among them is a root.</summary>
    public static List<Node> Build<T>(IEnumerable<T> items, Func<T, string> id, Func<T, string?> parent, Func<T, string> label)
    {
        var list = items.ToList();
        var nodes = list.ToDictionary(id, i => new Node(id(i), label(i), []), StringComparer.Ordinal);
        var roots = new List<Node>();
        foreach (var item in list)
        {
            var node = nodes[id(item)];
            if (parent(item) is { } p && nodes.TryGetValue(p, out var parentNode) && !ReferenceEquals(parentNode, node) && !IsAncestor(node, parentNode))
            {
                parentNode.Children.Add(node);
            }
            else
            {
                roots.Add(node);
            }
        }
        return roots;
    }

    public static void Write(TextWriter writer, IEnumerable<Node> roots)
    {
        foreach (var root in roots)
        {
            writer.WriteLine(root.Label);
            WriteChildren(writer, root, "");
        }
    }

    private static void WriteChildren(TextWriter writer, Node node, string indent)
    {
        for (var i = 0; i < node.Children.Count; i++)
        {
            var last = i == node.Children.Count - 1;
            writer.WriteLine($"{indent}{(last ? "└── " : "├── ")}{node.Children[i].Label}");
            WriteChildren(writer, node.Children[i], indent + (last ? "    " : "│   "));
        }
    }

    // Guards against a parent cycle in the data turning the forest into a loop.
    private static bool IsAncestor(Node candidate, Node of)
    {
        var stack = new Stack<Node>(candidate.Children);
        while (stack.Count > 0)
        {
            var current = stack.Pop();
            if (ReferenceEquals(current, of))
            {
                return true;
            }
            foreach (var child in current.Children)
            {
                stack.Push(child);
            }
        }
        return false;
    }
}
