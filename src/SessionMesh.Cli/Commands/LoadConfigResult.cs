using SessionMesh.Contracts;

namespace SessionMesh.Cli.Commands;

/// <summary>What load-config did (or, with --dry-run, would do), as JSON.</summary>
internal sealed record LoadConfigResult
{
    public required string File { get; init; }
    public string? Cluster { get; init; }
    public bool DryRun { get; init; }
    public required List<PlanAction> Actions { get; init; }
    /// <summary>Keys minted by this run; their secrets are shown only here.</summary>
    public List<CreatedKeyView> MintedKeys { get; init; } = [];
}

/// <summary>One step of a plan: <c>create</c>, <c>update</c>, <c>unchanged</c> or <c>deferred</c> (takes effect when the agent joins).</summary>
internal sealed record PlanAction
{
    /// <summary><c>agent</c>, <c>specialization</c>, <c>join_settings</c>, <c>key</c> or <c>list_filter</c>.</summary>
    public required string Kind { get; init; }
    public required string Target { get; init; }
    public required string Change { get; init; }
    public required string Detail { get; init; }
}

internal static class PlanChanges
{
    public const string Create = "create";
    public const string Update = "update";
    public const string Unchanged = "unchanged";
    public const string Deferred = "deferred";
}
