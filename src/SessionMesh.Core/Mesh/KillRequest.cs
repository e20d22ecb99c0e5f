namespace SessionMesh.Mesh;

/// <summary>The query of <c>DELETE /agents/{id}</c>, as given; validated by <see cref="CommandService.KillAsync"/>.</summary>
public sealed record KillRequest(bool Force = false, bool Cascade = true, int? GracePeriod = null, string? Reason = null, string? Cluster = null)
{
    /// <summary>
    /// The kill's propagation policy, as Kubernetes names an owner's: <c>cascade</c> (the whole sub-tree) or
    /// <c>orphan</c> (the agent only; its children keep running, orphaned).
    /// </summary>
    public string Propagation => Cascade ? "cascade" : "orphan";

    /// <summary>
    /// A kill from the API's parameters: <c>propagation</c> (<c>cascade</c> or <c>orphan</c>) or the older <c>cascade</c>
    /// flag, which must agree when both are given; the default is <c>cascade</c>.
    /// </summary>
    public static KillRequest Of(bool? force, bool? cascade, string? propagation, int? gracePeriod, string? reason, string? cluster)
    {
        var cascading = propagation switch
        {
            null => cascade ?? true,
            "cascade" or "orphan" when cascade is { } flag && flag != (propagation == "cascade") =>
                throw MeshException.Invalid("propagation", $"'propagation={propagation}' contradicts 'cascade={(flag ? "true" : "false")}': give one of them."),
            "cascade" => true,
            "orphan" => false,
            _ => throw MeshException.Invalid("propagation", "'propagation' must be 'cascade' (the agent and its whole sub-tree) or 'orphan' (the agent only; its children keep running)."),
        };
        return new KillRequest(force ?? false, cascading, gracePeriod, reason, cluster);
    }
}
