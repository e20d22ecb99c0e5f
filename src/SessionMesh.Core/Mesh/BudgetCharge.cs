using SessionMesh.Model;

namespace SessionMesh.Mesh;

/// <summary>
/// The one rule for charging a report's growth to a budget, whether the usage is in memory (one server) or in the store
/// (replicas): the usage adds up, and the charge that first crosses the soft limit raises <c>warned</c>, the one that
/// spends a limit <c>exceeded</c> — each once per budget.
/// </summary>
internal static class BudgetCharge
{
    /// <summary>
    /// <paramref name="holder"/> with <paramref name="delta"/> added to its usage, and the alert this charge raised (null
    /// when none); the holder as given when it has no budget.
    /// </summary>
    public static (SessionRecord Charged, string? Alert) Apply(SessionRecord holder, AgentProgress delta, double warnAt)
    {
        if (holder.Budget is not { } budget)
        {
            return (holder, null);
        }
        var used = delta.Plus(holder.BudgetUsed);
        var share = budget.UsedFraction(used);
        var alert = share >= 1 && holder.BudgetAlert != "exceeded" ? "exceeded"
            : share >= warnAt && holder.BudgetAlert is null ? "warned"
            : null;
        return (holder with { BudgetUsed = used, BudgetAlert = alert ?? holder.BudgetAlert }, alert);
    }
}
