using System.Text.RegularExpressions;
using SessionMesh.Model;

namespace SessionMesh.Mesh;

/// <summary>Input rules shared by every entry point; each failure names the field.</summary>
public static partial class Validate
{
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$")]
    private static partial Regex AgentIdPattern();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")]
    private static partial Regex ClusterPattern();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._:/+-]{0,127}$")]
    private static partial Regex SpecializationPattern();

    [GeneratedRegex("^[A-Za-z0-9]([A-Za-z0-9._/-]{0,61}[A-Za-z0-9])?$")]
    private static partial Regex LabelKeyPattern();

    /// <summary>
    /// Refuses a value shaped like a session key secret where a public name goes (ids are logged, listed and shown to
    /// every reader): a key pasted into the wrong field is not stored. The answer does not repeat it.
    /// </summary>
    public static void NotASecret(string? value, string field)
    {
        if (Security.KeySecrets.ContainsSecret(value))
        {
            throw MeshException.Invalid(field, $"'{field}' looks like a session key secret; names and ids are public, so it is refused. Use the key as a bearer token only.");
        }
    }

    /// <summary>The value of a required field, or a 400 naming it.</summary>
    public static string Required(string? value, string field) =>
        string.IsNullOrEmpty(value) ? throw MeshException.Invalid(field, $"'{field}' is required.") : value;

    public static string AgentId(string? value, string field = "agent_id")
    {
        Required(value, field);
        NotASecret(value, field);
        return AgentIdPattern().IsMatch(value!)
            ? value!
            : throw MeshException.Invalid(field, $"'{field}' must be 1-128 characters of letters, digits and . _ : @ -, starting with a letter or digit.");
    }

    public static string Cluster(string? value, string field = "cluster")
    {
        Required(value, field);
        return ClusterPattern().IsMatch(value!)
            ? value!
            : throw MeshException.Invalid(field, $"'{field}' must be 1-63 characters of letters, digits and . _ -, starting with a letter or digit.");
    }

    public static string Specialization(string? value, string field = "specialization")
    {
        Required(value, field);
        NotASecret(value, field);
        return SpecializationPattern().IsMatch(value!)
            ? value!
            : throw MeshException.Invalid(field, $"'{field}' must be 1-128 characters of letters, digits and . _ : / + -, starting with a letter or digit.");
    }

    public static int Ttl(int? value, int fallback, string field = "ttl", int max = MeshLimits.MaxTtl)
    {
        var ttl = value ?? fallback;
        return ttl is >= MeshLimits.MinTtl && ttl <= max
            ? ttl
            : throw MeshException.Invalid(field, $"'{field}' must be between {MeshLimits.MinTtl} and {max} seconds.");
    }

    public static double? Load(double? value)
    {
        return value is null || (value >= 0 && value <= 1)
            ? value
            : throw MeshException.Invalid("load", "'load' must be between 0 and 1.");
    }

    /// <summary>A progress report: counters 0 or more (cost a finite amount), an activity of at most 200 characters.</summary>
    public static AgentProgress? Progress(AgentProgress? progress, string field = "progress")
    {
        if (progress is null)
        {
            return null;
        }
        Counter(progress.Tokens, $"{field}.tokens");
        Counter(progress.ToolCalls, $"{field}.tool_calls");
        Counter(progress.Turns, $"{field}.turns");
        if (progress.CostUsd is { } cost && (!double.IsFinite(cost) || cost < 0))
        {
            throw MeshException.Invalid($"{field}.cost_usd", $"'{field}.cost_usd' must be a number of dollars, 0 or more.");
        }
        Text(progress.Activity, $"{field}.activity", MeshLimits.MaxActivityLength);
        return progress;
    }

    private static readonly string[] s_stallActions = ["none", "message", "kill"];

    /// <summary>A join's stall limit and what to do at it; <c>on_stall</c> needs <c>stall_after</c>.</summary>
    public static (int? StallAfter, string? OnStall) Stall(int? stallAfter, string? onStall)
    {
        if (stallAfter is not null)
        {
            Ttl(stallAfter, 0, "stall_after", MeshLimits.MaxStallAfter);
        }
        if (onStall is null)
        {
            return (stallAfter, stallAfter is null ? null : "none");
        }
        if (!s_stallActions.Contains(onStall))
        {
            throw MeshException.Invalid("on_stall", $"'on_stall' must be one of: {string.Join(", ", s_stallActions)}.");
        }
        return stallAfter is null
            ? throw MeshException.Invalid("on_stall", "'on_stall' needs 'stall_after': the seconds without progress that count as a stall.")
            : (stallAfter, onStall);
    }

    /// <summary>
    /// A join's budget: limits of 1 or more (cost above 0), runtime 1..<see cref="MeshLimits.MaxRuntime"/> seconds.
    /// <c>max_runtime</c> is the runtime's alias: either may be given, or both with the same value.
    /// </summary>
    public static AgentBudget? Budget(AgentBudget? budget, int? maxRuntime)
    {
        if (budget is null)
        {
            return null;
        }
        Limit(budget.Tokens, "budget.tokens");
        Limit(budget.ToolCalls, "budget.tool_calls");
        Limit(budget.Turns, "budget.turns");
        if (budget.CostUsd is { } cost && (!double.IsFinite(cost) || cost <= 0))
        {
            throw MeshException.Invalid("budget.cost_usd", "'budget.cost_usd' must be a number of dollars above 0.");
        }
        if (budget.Runtime is { } runtime)
        {
            Ttl(runtime, 0, "budget.runtime", MeshLimits.MaxRuntime);
            if (maxRuntime is { } alias && alias != runtime)
            {
                throw MeshException.Invalid("budget.runtime", "'budget.runtime' and 'max_runtime' are the same limit: give one, or both with the same value.");
            }
        }
        budget = budget with { Runtime = budget.Runtime ?? maxRuntime };
        return budget.IsEmpty ? null : budget;
    }

    private static void Limit(long? value, string field)
    {
        if (value < 1)
        {
            throw MeshException.Invalid(field, $"'{field}' must be 1 or more (leave it out for no limit).");
        }
    }

    private static void Counter(long? value, string field)
    {
        if (value < 0)
        {
            throw MeshException.Invalid(field, $"'{field}' is a cumulative count: 0 or more.");
        }
    }

    public static string? Text(string? value, string field, int maxLength)
    {
        return value is null || value.Length <= maxLength
            ? value
            : throw MeshException.Invalid(field, $"'{field}' must be at most {maxLength} characters.");
    }

    public static Dictionary<string, string> Labels(Dictionary<string, string>? labels, string field = "labels")
    {
        if (labels is null)
        {
            return [];
        }
        if (labels.Count > MeshLimits.MaxLabels)
        {
            throw MeshException.Invalid(field, $"At most {MeshLimits.MaxLabels} labels are allowed.");
        }
        foreach (var (key, value) in labels)
        {
            if (!LabelKeyPattern().IsMatch(key))
            {
                throw MeshException.Invalid($"{field}.{key}", $"Label key '{key}' must be 1-63 characters of letters, digits and . _ / -, starting and ending with a letter or digit.");
            }
            if (value is null || value.Length > MeshLimits.MaxLabelValueLength)
            {
                throw MeshException.Invalid($"{field}.{key}", $"Label '{key}' must have a string value of at most {MeshLimits.MaxLabelValueLength} characters.");
            }
        }
        return labels;
    }

    /// <summary>Parses a <c>key=value</c> label selector.</summary>
    public static KeyValuePair<string, string> LabelSelector(string selector, string field = "label")
    {
        var eq = selector.IndexOf('=', StringComparison.Ordinal);
        if (eq <= 0 || !LabelKeyPattern().IsMatch(selector[..eq]))
        {
            throw MeshException.Invalid(field, $"'{field}' selector '{selector}' must look like key=value.");
        }
        return new(selector[..eq], selector[(eq + 1)..]);
    }

    public static List<string> Tags(List<string>? tags, string field = "tags")
    {
        if (tags is null)
        {
            return [];
        }
        if (tags.Count > MeshLimits.MaxTags)
        {
            throw MeshException.Invalid(field, $"At most {MeshLimits.MaxTags} tags are allowed.");
        }
        foreach (var tag in tags)
        {
            if (string.IsNullOrWhiteSpace(tag) || tag.Length > MeshLimits.MaxTagLength)
            {
                throw MeshException.Invalid(field, $"Each tag must be 1-{MeshLimits.MaxTagLength} characters.");
            }
        }
        return tags.Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>A directive or message text: 1..4000 characters.</summary>
    public static string Directive(string? value, string field)
    {
        Required(value, field);
        return value!.Length <= MeshLimits.MaxDirectiveLength
            ? value
            : throw MeshException.Invalid(field, $"'{field}' must be 1-{MeshLimits.MaxDirectiveLength} characters.");
    }

    /// <summary>An <c>Idempotency-Key</c> header: 1..255 visible ASCII characters, or none.</summary>
    public static string? IdempotencyKey(string? value)
    {
        if (value is null)
        {
            return null;
        }
        return value.Length is >= 1 and <= 255 && value.All(c => c is > ' ' and <= '~')
            ? value
            : throw MeshException.Invalid("Idempotency-Key", "The Idempotency-Key header must be 1-255 visible ASCII characters.");
    }

    public static int Limit(int? limit)
    {
        var value = limit ?? MeshLimits.DefaultPageSize;
        return value is >= 1 and <= MeshLimits.MaxPageSize
            ? value
            : throw MeshException.Invalid("limit", $"'limit' must be between 1 and {MeshLimits.MaxPageSize}.");
    }
}
