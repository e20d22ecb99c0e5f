using System.Text;

namespace SessionMesh.Cli.Output;

/// <summary>A plain aligned table: upper-case headers, two spaces between columns, no borders (kubectl's look).</summary>
internal sealed class Table(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public int Count => _rows.Count;

    public void Add(params string?[] cells) => _rows.Add(cells.Select(c => c ?? "-").ToArray());

    public void Write(TextWriter writer, Ansi style)
    {
        var widths = new int[headers.Length];
        for (var c = 0; c < headers.Length; c++)
        {
            widths[c] = headers[c].Length;
            foreach (var row in _rows)
            {
                widths[c] = Math.Max(widths[c], Ansi.VisibleLength(row[c]));
            }
        }
        writer.WriteLine(style.Bold(Line(headers, widths).TrimEnd()));
        foreach (var row in _rows)
        {
            writer.WriteLine(Line(row, widths).TrimEnd());
        }
    }

    private static string Line(string[] cells, int[] widths)
    {
        var builder = new StringBuilder();
        for (var c = 0; c < cells.Length; c++)
        {
            builder.Append(cells[c]);
            if (c < cells.Length - 1)
            {
                builder.Append(' ', widths[c] - Ansi.VisibleLength(cells[c]) + 2);
            }
        }
        return builder.ToString();
    }
}
