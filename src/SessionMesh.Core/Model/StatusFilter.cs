namespace SessionMesh.Model;

/// <summary>The filter words of <c>GET /alive?filter=</c>.</summary>
public enum StatusFilter
{
    /// <summary>Active, idle and stalled.</summary>
    Alive,
    /// <summary>Heartbeat within the TTL, not idle.</summary>
    Active,
    /// <summary>Within the TTL, reported idle.</summary>
    Idle,
    /// <summary>Within the TTL, no progress for its <c>stall_after</c>.</summary>
    Stalled,
    /// <summary>TTL passed, within the grace.</summary>
    Stale,
    /// <summary>Every terminal status.</summary>
    Ended,
    /// <summary>Alive, but the parent agent has no open session.</summary>
    Orphaned,
    /// <summary>Everything, ended sessions included.</summary>
    All,
}

/// <summary>Parsing of <see cref="StatusFilter"/> words.</summary>
public static class StatusFilters
{
    /// <summary>The accepted words, in documentation order.</summary>
    public static readonly IReadOnlyList<string> Words = ["active", "idle", "stalled", "stale", "alive", "ended", "orphaned", "all"];

    /// <summary>Parses a filter word (case-insensitive); null when it is not one.</summary>
    public static StatusFilter? Parse(string? word) => word?.ToLowerInvariant() switch
    {
        "alive" => StatusFilter.Alive,
        "active" => StatusFilter.Active,
        "idle" => StatusFilter.Idle,
        "stalled" => StatusFilter.Stalled,
        "stale" => StatusFilter.Stale,
        "ended" => StatusFilter.Ended,
        "orphaned" => StatusFilter.Orphaned,
        "all" => StatusFilter.All,
        _ => null,
    };
}
