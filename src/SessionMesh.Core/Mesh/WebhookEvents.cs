using SessionMesh.Model;

namespace SessionMesh.Mesh;

/// <summary>
/// The event types a webhook may ask for, and how its patterns match them: an exact type (<c>command.acked</c>), a
/// family (<c>session.*</c>) or everything (<c>*</c>). Events about keys are never delivered (they describe credentials;
/// the <c>/events</c> stream shows them only to keys with the <c>keys</c> scope), so no pattern names them.
/// </summary>
public static class WebhookEvents
{
    /// <summary>The type of the delivery <c>POST /webhooks/{id}/test</c> sends; never in the event log.</summary>
    public const string TestType = "webhook.test";

    /// <summary>The event appended when a webhook's retries run out.</summary>
    public const string FailingType = "webhook.failing";

    /// <summary>Every event type a pattern may name.</summary>
    public static IReadOnlyList<string> KnownTypes { get; } =
    [
        "session.joined", "session.stale", "session.expired", "session.left", "session.killed", "session.superseded",
        "session.stalled", "session.progressed", "session.budget_warning", "session.budget_exceeded",
        "agent.declared", "agent.registered", "agent.unregistered", "agent.kill_requested", "agent.card_updated", "agent.card_removed",
        "command.queued", "command.delivered", "command.acked", "command.rejected", "command.failed", "command.expired",
        "lock.acquired", "lock.released",
        FailingType,
    ];

    private static readonly HashSet<string> s_families = KnownTypes.Select(FamilyOf).ToHashSet(StringComparer.Ordinal);

    /// <summary>Checks and normalises the patterns of a request: 1..32 of them, each <c>*</c>, a known family with <c>.*</c>, or a known type.</summary>
    public static List<string> Validate(List<string>? patterns, string field = "events")
    {
        if (patterns is null || patterns.Count == 0)
        {
            throw MeshException.Invalid(field, $"'{field}' must list at least one event type or pattern, e.g. [\"session.*\", \"command.acked\"].");
        }
        if (patterns.Count > 32)
        {
            throw MeshException.Invalid(field, $"'{field}' may list at most 32 patterns.");
        }
        var result = new List<string>();
        for (var i = 0; i < patterns.Count; i++)
        {
            var pattern = patterns[i]?.Trim() ?? "";
            var known = pattern == "*"
                || (pattern.EndsWith(".*", StringComparison.Ordinal) && s_families.Contains(pattern[..^2]))
                || KnownTypes.Contains(pattern, StringComparer.Ordinal);
            if (!known)
            {
                var hint = pattern.StartsWith("key.", StringComparison.Ordinal)
                    ? " Events about keys are never delivered to webhooks."
                    : $" Patterns are '*', a family ({string.Join(", ", s_families.Order(StringComparer.Ordinal).Select(f => f + ".*"))}) or a type: {string.Join(", ", KnownTypes)}.";
                throw MeshException.Invalid($"{field}[{i}]", $"'{pattern}' is not an event type or pattern a webhook can receive.{hint}");
            }
            if (!result.Contains(pattern, StringComparer.Ordinal))
            {
                result.Add(pattern);
            }
        }
        return result;
    }

    /// <summary>True when an event of <paramref name="type"/> matches one of <paramref name="patterns"/>; never for events about keys.</summary>
    public static bool Matches(IReadOnlyList<string> patterns, string type)
    {
        if (type.StartsWith("key.", StringComparison.Ordinal))
        {
            return false;
        }
        foreach (var pattern in patterns)
        {
            if (pattern == "*" || pattern == type
                || (pattern.EndsWith(".*", StringComparison.Ordinal) && type.Length > pattern.Length - 1 && type.StartsWith(pattern[..^1], StringComparison.Ordinal)))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// True when the webhook's agent filters (labels, specialization) let an event through: without filters every event
    /// does; with them, only events about an agent that carries every label and has the specialization.
    /// </summary>
    public static bool PassesAgentFilters(WebhookRecord webhook, AgentRecord? agent, IReadOnlyCollection<SpecializationRecord> specializations)
    {
        if (webhook.Labels.Count == 0 && webhook.Specialization is null)
        {
            return true;
        }
        if (agent is null)
        {
            return false;
        }
        foreach (var (key, value) in webhook.Labels)
        {
            if (!agent.Labels.TryGetValue(key, out var actual) || actual != value)
            {
                return false;
            }
        }
        return webhook.Specialization is null || specializations.Any(s => s.Name == webhook.Specialization);
    }

    private static string FamilyOf(string type) => type[..type.IndexOf('.', StringComparison.Ordinal)];
}
