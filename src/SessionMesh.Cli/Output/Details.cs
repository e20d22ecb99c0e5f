namespace SessionMesh.Cli.Output;

/// <summary>kubectl describe's shape: "Label:  value" lines aligned on one column, and indented sections of items.</summary>
internal sealed class Details
{
    private readonly List<(string Label, string? Value, List<string>? Items)> _lines = [];

    public Details Field(string label, string? value)
    {
        _lines.Add((label, value, null));
        return this;
    }

    /// <summary>A heading with one indented line per item ("&lt;none&gt;" when there are none).</summary>
    public Details Section(string label, IEnumerable<string> items)
    {
        _lines.Add((label, null, items.ToList()));
        return this;
    }

    public void Write(TextWriter writer)
    {
        var width = _lines.Where(l => l.Items is null).Select(l => l.Label.Length).DefaultIfEmpty(0).Max() + 2;
        foreach (var (label, value, items) in _lines)
        {
            if (items is null)
            {
                writer.WriteLine($"{(label + ":").PadRight(width + 1)}{value ?? "-"}");
                continue;
            }
            writer.WriteLine($"{label}:{(items.Count == 0 ? " <none>" : "")}");
            foreach (var item in items)
            {
                writer.WriteLine($"  {item}");
            }
        }
    }
}
