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
        var counters = Counters(progress.Tokens, progress.ToolCalls, progress.Turns, progress.CostUsd, runtime: null, abbreviate: true);
        var text = string.Join(" · ", new[] { progress.Activity, counters }.Where(p => !string.IsNullOrEmpty(p)));
        return text.Length == 0 ? null : text;
    }

    /// <summary>
    /// Counters (or a budget's limits) as <c>12.4k tokens, 31 tool calls, 4 turns, $0.42, 600s</c>, naming only those set;
    /// with <paramref name="abbreviate"/> false, counts are written in full.
    /// </summary>
    public static string Counters(long? tokens, long? toolCalls, long? turns, double? costUsd, long? runtime, bool abbreviate)
    {
        string Number(long value) => abbreviate ? Count(value) : value.ToString(CultureInfo.InvariantCulture);
        return string.Join(", ", new[]
        {
            tokens is { } t ? $"{Number(t)} tokens" : null,
            toolCalls is { } c ? $"{Number(c)} tool calls" : null,
            turns is { } n ? $"{Number(n)} turns" : null,
            costUsd is { } d ? "$" + d.ToString("0.00", CultureInfo.InvariantCulture) : null,
            runtime is { } r ? $"{r.ToString(CultureInfo.InvariantCulture)}s" : null,
        }.OfType<string>());
    }

    private static string Count(long value) => value >= 10_000
        ? (value / 1000.0).ToString("0.#", CultureInfo.InvariantCulture) + "k"
        : value.ToString(CultureInfo.InvariantCulture);
}
