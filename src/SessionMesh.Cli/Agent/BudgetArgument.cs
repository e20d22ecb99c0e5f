using System.Globalization;
using SessionMesh.Model;

namespace SessionMesh.Cli.Agent;

/// <summary>
/// <c>--budget tokens=200000,cost_usd=3</c>: limits for the join's <c>budget</c> (see docs/progress-and-budgets.md).
/// The option may repeat; a key given twice, an unknown key or a value that is not a positive number is a usage error naming it.
/// </summary>
internal static class BudgetArgument
{
    public const string Option = "--budget";
    public static readonly string[] Keys = ["tokens", "tool_calls", "turns", "cost_usd", "runtime"];

    public static AgentBudget? Parse(IEnumerable<string>? values)
    {
        var budget = new AgentBudget();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var pair in (values ?? []).SelectMany(value => value.Split(',', StringSplitOptions.TrimEntries)))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var key = equals < 0 ? pair : pair[..equals].Trim();
            var text = equals < 0 ? "" : pair[(equals + 1)..].Trim();
            if (!Keys.Contains(key))
            {
                throw CliException.Usage($"{Option}: unknown key '{key}' in '{pair}' (keys: {string.Join(", ", Keys)})");
            }
            if (equals < 0)
            {
                throw CliException.Usage($"{Option}: '{pair}' is not {key}=VALUE");
            }
            if (!seen.Add(key))
            {
                throw CliException.Usage($"{Option}: '{key}' is given twice");
            }
            budget = key switch
            {
                "tokens" => budget with { Tokens = Count(key, text) },
                "tool_calls" => budget with { ToolCalls = Count(key, text) },
                "turns" => budget with { Turns = Count(key, text) },
                "cost_usd" => budget with { CostUsd = Dollars(text) },
                _ => budget with { Runtime = Seconds(text) },
            };
        }
        return budget.IsEmpty ? null : budget;
    }

    private static long Count(string key, string text) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= 1 ? value
            : throw CliException.Usage($"{Option}: {key}='{text}' is not a whole number of 1 or more");

    private static double Dollars(string text) =>
        double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value) && value > 0 ? value
            : throw CliException.Usage($"{Option}: cost_usd='{text}' is not an amount of dollars above 0 (e.g. 2.50)");

    private static int Seconds(string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= 1 ? value
            : throw CliException.Usage($"{Option}: runtime='{text}' is not a whole number of seconds, 1 or more");
}
