using System.Text.Json;

namespace SessionMesh.Model;

/// <summary>What a command asks of an agent.</summary>
public enum CommandKind
{
    /// <summary>A directive: change course.</summary>
    Steer,
    /// <summary>A message from an operator or another agent.</summary>
    Message,
    /// <summary>Stop: finish up within the grace period.</summary>
    Kill,
}

/// <summary>Where a command stands. Queued and delivered are pending; the rest are final.</summary>
public enum CommandStatus
{
    Queued,
    Delivered,
    Acked,
    Rejected,
    Failed,
    Expired,
}

/// <summary>A directive queued for one agent, as stored.</summary>
/// <param name="Sequence">Position in the agent's stream, strictly increasing per (cluster, agent).</param>
/// <param name="DeadlineAt">
/// For steer and message: when an undelivered command expires. For kill: when the grace period ends and the
/// mesh ends the session itself.
/// </param>
/// <param name="IdempotencyKey">The client's <c>Idempotency-Key</c>; unique per (<paramref name="CreatedBy"/>, key).</param>
/// <param name="DeliveryCount">How many times the command was written to a stream or poll.</param>
public sealed record CommandRecord(
    string CommandId,
    string Cluster,
    string AgentId,
    CommandKind Kind,
    CommandStatus Status,
    long Sequence,
    string? Direction,
    string? Mode,
    string? Text,
    string? From,
    string? Reason,
    int? GracePeriod,
    JsonElement? Payload,
    JsonElement? Result,
    DateTimeOffset CreatedAt,
    DateTimeOffset? DeliveredAt,
    DateTimeOffset? CompletedAt,
    DateTimeOffset? DeadlineAt,
    string CreatedBy,
    string? IdempotencyKey,
    int DeliveryCount = 0)
{
    /// <summary>True while the command still waits for the agent.</summary>
    public bool IsPending => Status is CommandStatus.Queued or CommandStatus.Delivered;
}

/// <summary>Wire names of the command enums.</summary>
public static class CommandNames
{
    public static string ToWire(this CommandKind kind) => kind switch
    {
        CommandKind.Steer => "steer",
        CommandKind.Message => "message",
        CommandKind.Kill => "kill",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    public static string ToWire(this CommandStatus status) => status switch
    {
        CommandStatus.Queued => "queued",
        CommandStatus.Delivered => "delivered",
        CommandStatus.Acked => "acked",
        CommandStatus.Rejected => "rejected",
        CommandStatus.Failed => "failed",
        CommandStatus.Expired => "expired",
        _ => throw new ArgumentOutOfRangeException(nameof(status)),
    };

    public static CommandKind? ParseKind(string? value) => value switch
    {
        "steer" => CommandKind.Steer,
        "message" => CommandKind.Message,
        "kill" => CommandKind.Kill,
        _ => null,
    };

    public static CommandStatus? ParseStatus(string? value) => value switch
    {
        "queued" => CommandStatus.Queued,
        "delivered" => CommandStatus.Delivered,
        "acked" => CommandStatus.Acked,
        "rejected" => CommandStatus.Rejected,
        "failed" => CommandStatus.Failed,
        "expired" => CommandStatus.Expired,
        _ => null,
    };
}
