using System.Globalization;
using SessionMesh.Model;

namespace SessionMesh.Cli.Output;

/// <summary>An agent's reported progress as one short line: its activity, then its counters.</summary>
internal static class ProgressText
{
    /// <summary>E.g. <c>running tests · 12.4k tokens, 31 tool calls, 4 turns, $0.42</c>; null when nothing was reported.</summary>
    public static string? Line(AgentProgress? progress)
    {
        if (progress is null)
        {
            return null;
        }
        var counters = new[]
        {
            progress.Tokens is { } tokens ? $"{Count(tokens)} tokens" : null,
            progress.ToolCalls is { } calls ? $"{Count(calls)} tool calls" : null,
            progress.Turns is { } turns ? $"{Count(turns)} turns" : null,
            progress.CostUsd is { } cost ? "$" + cost.ToString("0.00", CultureInfo.InvariantCulture) : null,
        }.Where(c => c is not null);
        var text = string.Join(" · ", new[] { progress.Activity, string.Join(", ", counters) }.Where(p => !string.IsNullOrEmpty(p)));
        return text.Length == 0 ? null : text;
    }

    private static string Count(long value) => value >= 10_000
        ? (value / 1000.0).ToString("0.#", CultureInfo.InvariantCulture) + "k"
        : value.ToString(CultureInfo.InvariantCulture);
}
