using SessionMesh.Model;

namespace SessionMesh.Mesh;

/// <summary>
/// The budget a join gets. A child's budget never exceeds what its ancestors' budgets have left (counted over each
/// ancestor's whole sub-tree) nor its parent's remaining runtime: a join asking for more is clipped to that, or refused
/// (<see cref="MeshOptions.BudgetOverask"/>); counters it leaves out inherit what is left; with nothing left of a
/// limited counter, the join is refused with 409 <c>budget_exceeded</c>.
/// </summary>
/// <param name="Budget">The session's budget; null when neither it nor its ancestors limit anything.</param>
/// <param name="Clipped">The counters cut to what was left, by wire name.</param>
/// <param name="ChargeTo">The sessions whose budgets the new session's reports count against, before its own.</param>
internal sealed record BudgetPlan(AgentBudget? Budget, IReadOnlyList<string> Clipped, IReadOnlyList<string> ChargeTo)
{
    /// <summary>
    /// Plans the budget of a join under <paramref name="parent"/> (its open session, if any), whose charge list's open
    /// sessions are <paramref name="holders"/>, by id.
    /// </summary>
    public static BudgetPlan For(AgentBudget? asked, SessionRecord? parent, IReadOnlyDictionary<string, SessionRecord> holders, DateTimeOffset now, MeshOptions options)
    {
        var chargeTo = parent?.ChargeTo ?? [];
        var left = Left(parent, chargeTo, holders, now);
        if (left is null)
        {
            return new BudgetPlan(asked, [], chargeTo);
        }
        if (left.AnySpent)
        {
            throw MeshException.Conflict("budget_exceeded",
                $"Agent '{parent!.AgentId}' has no budget left for a sub-agent ({Describe(left)}); raise the budget higher up or wait for usage to settle.");
        }
        var clipped = asked?.Above(left) ?? [];
        if (clipped.Count > 0 && options.BudgetOverask == "refuse")
        {
            throw MeshException.Conflict("budget_exceeded",
                $"The budget asks for more {string.Join(", ", clipped)} than agent '{parent!.AgentId}' has left ({Describe(left)}).");
        }
        return new BudgetPlan(asked is null ? left : asked.Min(left), clipped, chargeTo);
    }

    /// <summary>What the ancestors have left, counter by counter; null when nothing above limits anything.</summary>
    private static AgentBudget? Left(SessionRecord? parent, IReadOnlyList<string> chargeTo, IReadOnlyDictionary<string, SessionRecord> holders, DateTimeOffset now)
    {
        AgentBudget? left = null;
        foreach (var holderId in chargeTo)
        {
            if (holders.GetValueOrDefault(holderId) is { Budget: { } budget } holder)
            {
                var rest = budget.Left(holder.BudgetUsed) with { Runtime = RuntimeLeft(holder, now) };
                left = left is null ? rest : left.Min(rest);
            }
        }
        if (parent is { MaxRuntime: not null })
        {
            var runtime = new AgentBudget { Runtime = RuntimeLeft(parent, now) };
            left = left is null ? runtime : left.Min(runtime);
        }
        return left;
    }

    private static int? RuntimeLeft(SessionRecord session, DateTimeOffset now) =>
        session.MaxRuntime is { } seconds ? (int)Math.Max(0, Math.Floor((session.StartedAt.AddSeconds(seconds) - now).TotalSeconds)) : null;

    private static string Describe(AgentBudget left) => string.Join(", ", new[]
    {
        left.Tokens is { } t ? $"tokens {t}" : null,
        left.ToolCalls is { } c ? $"tool_calls {c}" : null,
        left.Turns is { } n ? $"turns {n}" : null,
        left.CostUsd is { } d ? $"cost_usd {d.ToString("0.####", System.Globalization.CultureInfo.InvariantCulture)}" : null,
        left.Runtime is { } r ? $"runtime {r} s" : null,
    }.OfType<string>()) + " left";
}
