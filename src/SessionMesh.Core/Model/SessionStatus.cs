using System.Text.Json.Serialization;

namespace SessionMesh.Model;

/// <summary>Where a session stands. The first four are live; the rest are terminal.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<SessionStatus>))]
public enum SessionStatus
{
    /// <summary>Heartbeat within the TTL.</summary>
    [JsonStringEnumMemberName("active")] Active,
    /// <summary>Within the TTL, and the agent reported itself idle.</summary>
    [JsonStringEnumMemberName("idle")] Idle,
    /// <summary>Within the TTL, but its progress counters have not grown for its <c>stall_after</c>.</summary>
    [JsonStringEnumMemberName("stalled")] Stalled,
    /// <summary>TTL passed, within a grace of one more TTL.</summary>
    [JsonStringEnumMemberName("stale")] Stale,
    /// <summary>Ended: the grace passed without a heartbeat.</summary>
    [JsonStringEnumMemberName("expired")] Expired,
    /// <summary>Ended: the agent said goodbye.</summary>
    [JsonStringEnumMemberName("left")] Left,
    /// <summary>Ended: an operator or the mesh killed it.</summary>
    [JsonStringEnumMemberName("killed")] Killed,
    /// <summary>Ended: a newer join of the same agent replaced it.</summary>
    [JsonStringEnumMemberName("superseded")] Superseded,
}

/// <summary>Helpers for <see cref="SessionStatus"/>.</summary>
public static class SessionStatusExtensions
{
    /// <summary>True for statuses that end a session.</summary>
    public static bool IsTerminal(this SessionStatus status) => status >= SessionStatus.Expired;

    /// <summary>True for active, idle and stalled: the agent is alive.</summary>
    public static bool IsAlive(this SessionStatus status) => status is SessionStatus.Active or SessionStatus.Idle or SessionStatus.Stalled;

    /// <summary>The wire name: <c>active</c>, <c>idle</c>, ...</summary>
    public static string ToWire(this SessionStatus status) => status switch
    {
        SessionStatus.Active => "active",
        SessionStatus.Idle => "idle",
        SessionStatus.Stalled => "stalled",
        SessionStatus.Stale => "stale",
        SessionStatus.Expired => "expired",
        SessionStatus.Left => "left",
        SessionStatus.Killed => "killed",
        SessionStatus.Superseded => "superseded",
        _ => throw new ArgumentOutOfRangeException(nameof(status)),
    };

    /// <summary>Parses a wire name; null when it is not one.</summary>
    public static SessionStatus? FromWire(string? value) => value switch
    {
        "active" => SessionStatus.Active,
        "idle" => SessionStatus.Idle,
        "stalled" => SessionStatus.Stalled,
        "stale" => SessionStatus.Stale,
        "expired" => SessionStatus.Expired,
        "left" => SessionStatus.Left,
        "killed" => SessionStatus.Killed,
        "superseded" => SessionStatus.Superseded,
        _ => null,
    };
}
