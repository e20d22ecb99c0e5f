using System.Globalization;
using System.Text;

namespace SessionMesh.LoadGen;

/// <summary>The scale run as markdown: the machine and command, then one row per target with its figure and whether it is met.</summary>
internal static class ScaleReport
{
    public static string Render(LoadGenOptions options, IReadOnlyList<ScaleRow> rows, IReadOnlyList<string> processes, long? fileLimit, string loadAverage, TimeSpan total)
    {
        var text = new StringBuilder();
        void Line(FormattableString line) => text.AppendLine(line.ToString(CultureInfo.InvariantCulture));

        Line($"## session-mesh scale targets, {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC");
        Line($"");
        text.Append(Report.MachineLines());
        Line($"- Command: `{options.CommandLine()}`");
        foreach (var process in processes)
        {
            Line($"- Process {process}");
        }
        Line($"- Open-file limit of the bench (and so of the server it starts): {(fileLimit is { } limit ? limit.ToString(CultureInfo.InvariantCulture) : "unknown")}.");
        Line($"- Whole run: {total.TotalSeconds:0} s. Load average (1/5/15 min) at the start: {loadAverage}, at the end: {Bench.LoadAverage()}. Absolute figures, so a busy machine shows in them; row 1r measures the floor under row 1 in the same run (a bare relay on the same streams and schedule).");
        Line($"");
        Line($"| # | Scale scenario | Figure | Target | Met |");
        Line($"|---|---|---|---|---|");
        foreach (var row in rows)
        {
            Line($"| {row.Id} | {row.Scenario} | {row.Figure} | {row.Target} | {row.Met switch { true => "yes", false => "**no**", null => "–" }} |");
        }
        Line($"");
        foreach (var row in rows)
        {
            Line($"- **{row.Id}.** {row.Details}");
        }
        return text.ToString();
    }
}
