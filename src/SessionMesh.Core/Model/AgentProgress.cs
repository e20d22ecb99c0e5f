namespace SessionMesh.Model;

/// <summary>
/// What an agent reports of its work: cumulative counters, which only grow, and a short line saying what it is doing.
/// A report names the counters it knows; the others keep their last value.
/// </summary>
public sealed record AgentProgress
{
    /// <summary>Tokens used so far.</summary>
    public long? Tokens { get; init; }

    /// <summary>Tool calls made so far.</summary>
    public long? ToolCalls { get; init; }

    /// <summary>Turns taken so far.</summary>
    public long? Turns { get; init; }

    /// <summary>Money spent so far, in US dollars.</summary>
    public double? CostUsd { get; init; }

    /// <summary>What the agent is doing now, e.g. "running tests" (at most 200 characters).</summary>
    public string? Activity { get; init; }

    /// <summary>
    /// This report laid over the <paramref name="previous"/> one: counters it names replace, the rest stay. Null when a
    /// counter went down (the field named in <paramref name="decreased"/>).
    /// </summary>
    public AgentProgress? Over(AgentProgress? previous, out string? decreased)
    {
        decreased = Lower(Tokens, previous?.Tokens, "tokens") ?? Lower(ToolCalls, previous?.ToolCalls, "tool_calls")
            ?? Lower(Turns, previous?.Turns, "turns") ?? Lower(CostUsd, previous?.CostUsd, "cost_usd");
        return decreased is not null ? null : new AgentProgress
        {
            Tokens = Tokens ?? previous?.Tokens,
            ToolCalls = ToolCalls ?? previous?.ToolCalls,
            Turns = Turns ?? previous?.Turns,
            CostUsd = CostUsd ?? previous?.CostUsd,
            Activity = Activity ?? previous?.Activity,
        };
    }

    /// <summary>True when any counter is higher than in <paramref name="previous"/> (the activity line alone is not progress).</summary>
    public bool AdvancedFrom(AgentProgress? previous) =>
        Higher(Tokens, previous?.Tokens) || Higher(ToolCalls, previous?.ToolCalls) || Higher(Turns, previous?.Turns) || Higher(CostUsd, previous?.CostUsd);

    /// <summary>How much each counter grew since <paramref name="previous"/>; a counter neither reported stays unset. No activity.</summary>
    public AgentProgress Since(AgentProgress? previous) => new()
    {
        Tokens = Tokens - (previous?.Tokens ?? 0),
        ToolCalls = ToolCalls - (previous?.ToolCalls ?? 0),
        Turns = Turns - (previous?.Turns ?? 0),
        CostUsd = CostUsd - (previous?.CostUsd ?? 0),
    };

    /// <summary>The counters of this and <paramref name="other"/> added up (a sum of usage); unset where both are. No activity.</summary>
    public AgentProgress Plus(AgentProgress? other) => new()
    {
        Tokens = Sum(Tokens, other?.Tokens),
        ToolCalls = Sum(ToolCalls, other?.ToolCalls),
        Turns = Sum(Turns, other?.Turns),
        CostUsd = Sum(CostUsd, other?.CostUsd),
    };

    /// <summary>The higher of this and <paramref name="other"/>, counter by counter; unset where both are. No activity.</summary>
    public AgentProgress Highest(AgentProgress? other) => new()
    {
        Tokens = Max(Tokens, other?.Tokens),
        ToolCalls = Max(ToolCalls, other?.ToolCalls),
        Turns = Max(Turns, other?.Turns),
        CostUsd = Max(CostUsd, other?.CostUsd),
    };

    /// <summary>This report with each counter raised to at least <paramref name="floor"/>'s; the activity stays this one's.</summary>
    public AgentProgress AtLeast(AgentProgress floor) => Highest(floor) with { Activity = Activity };

    private static T? Max<T>(T? a, T? b) where T : struct, IComparable<T> =>
        a is { } x && b is { } y ? (x.CompareTo(y) >= 0 ? x : y) : a ?? b;

    private static long? Sum(long? a, long? b) => a is null && b is null ? null : (a ?? 0) + (b ?? 0);

    private static double? Sum(double? a, double? b) => a is null && b is null ? null : (a ?? 0) + (b ?? 0);

    private static string? Lower<T>(T? reported, T? previous, string field) where T : struct, IComparable<T> =>
        reported is { } now && previous is { } before && now.CompareTo(before) < 0 ? field : null;

    private static bool Higher<T>(T? current, T? previous) where T : struct, IComparable<T> =>
        current is { } now && (previous is not { } before || now.CompareTo(before) > 0);
}
