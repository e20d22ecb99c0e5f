using System.Text.Json.Serialization;

namespace SessionMesh.Model;

/// <summary>
/// Limits on an agent's progress counters, counted over the agent and all its descendants, and on its runtime (its own,
/// in seconds from its join; <c>max_runtime</c> is its alias). A counter left out is not limited.
/// </summary>
public sealed record AgentBudget
{
    public long? Tokens { get; init; }

    public long? ToolCalls { get; init; }

    public long? Turns { get; init; }

    public double? CostUsd { get; init; }

    /// <summary>Seconds from the join.</summary>
    public int? Runtime { get; init; }

    /// <summary>True when no limit is set.</summary>
    [JsonIgnore]
    public bool IsEmpty => Tokens is null && ToolCalls is null && Turns is null && CostUsd is null && Runtime is null;

    /// <summary>
    /// The largest share of a limit <paramref name="used"/> reaches, over the counters this budget limits (0 when none);
    /// 1 or more means the budget is spent.
    /// </summary>
    public double UsedFraction(AgentProgress? used) => new[]
    {
        Fraction(used?.Tokens, Tokens),
        Fraction(used?.ToolCalls, ToolCalls),
        Fraction(used?.Turns, Turns),
        Fraction(used?.CostUsd, CostUsd),
    }.Max();

    /// <summary>What is left of each limited counter after <paramref name="used"/> (never below 0); runtime is not counted here.</summary>
    public AgentBudget Left(AgentProgress? used) => this with
    {
        Tokens = Tokens is { } t ? Math.Max(0, t - (used?.Tokens ?? 0)) : null,
        ToolCalls = ToolCalls is { } c ? Math.Max(0, c - (used?.ToolCalls ?? 0)) : null,
        Turns = Turns is { } n ? Math.Max(0, n - (used?.Turns ?? 0)) : null,
        CostUsd = CostUsd is { } d ? Math.Max(0, d - (used?.CostUsd ?? 0)) : null,
    };

    /// <summary>The tighter of two budgets, counter by counter (a counter limited by either is limited).</summary>
    public AgentBudget Min(AgentBudget other) => new()
    {
        Tokens = Tighter(Tokens, other.Tokens),
        ToolCalls = Tighter(ToolCalls, other.ToolCalls),
        Turns = Tighter(Turns, other.Turns),
        CostUsd = Tighter(CostUsd, other.CostUsd),
        Runtime = Tighter(Runtime, other.Runtime),
    };

    /// <summary>The counters of this budget that are above <paramref name="cap"/>'s, by wire name.</summary>
    public IReadOnlyList<string> Above(AgentBudget cap) => new[]
    {
        Over(Tokens, cap.Tokens) ? "tokens" : null,
        Over(ToolCalls, cap.ToolCalls) ? "tool_calls" : null,
        Over(Turns, cap.Turns) ? "turns" : null,
        Over(CostUsd, cap.CostUsd) ? "cost_usd" : null,
        Over(Runtime, cap.Runtime) ? "runtime" : null,
    }.OfType<string>().ToList();

    /// <summary>True when some counter of this budget (as what is left) is at 0.</summary>
    [JsonIgnore]
    public bool AnySpent => Tokens == 0 || ToolCalls == 0 || Turns == 0 || CostUsd <= 0 || Runtime <= 0;

    private static double Fraction(double? used, double? limit) =>
        limit is not { } l ? 0 : l <= 0 ? double.PositiveInfinity : (used ?? 0) / l;

    private static T? Tighter<T>(T? a, T? b) where T : struct, IComparable<T> =>
        a is { } x ? (b is { } y && y.CompareTo(x) < 0 ? y : x) : b;

    private static bool Over<T>(T? value, T? cap) where T : struct, IComparable<T> =>
        value is { } v && cap is { } c && v.CompareTo(c) > 0;
}
