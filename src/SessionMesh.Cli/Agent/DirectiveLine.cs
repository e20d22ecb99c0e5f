using System.Text.Json;
using SessionMesh.Contracts;

namespace SessionMesh.Cli.Agent;

/// <summary>
/// One directive as the wrapped child reads it: a line of JSON on its standard input (and, for an interrupt, in
/// <c>SESSION_MESH_DIRECTIVE</c> of the restarted child). <c>type</c> is <c>steer</c> or <c>message</c>.
/// </summary>
internal sealed record DirectiveLine
{
    public required string Type { get; init; }
    public required string CommandId { get; init; }
    public long Sequence { get; init; }
    public string? Direction { get; init; }
    public string? Mode { get; init; }
    public string? Text { get; init; }
    public string? From { get; init; }
    public JsonElement? Payload { get; init; }
    public DateTimeOffset CreatedAt { get; init; }

    public static DirectiveLine Of(CommandView command) => new()
    {
        Type = command.Kind,
        CommandId = command.CommandId,
        Sequence = command.Sequence,
        Direction = command.Direction,
        Mode = command.Mode,
        Text = command.Text,
        From = command.From,
        Payload = command.Payload,
        CreatedAt = command.CreatedAt,
    };

    /// <summary>The line, without its line break: compact JSON never holds one.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, CliJsonContext.Default.DirectiveLine);
}

/// <summary>The result a kill is acked with: how the child ended.</summary>
internal sealed record KillResult
{
    public int? ExitCode { get; init; }
    /// <summary>True when the grace period ran out and SIGKILL stopped what was left.</summary>
    public bool Forced { get; init; }
}
