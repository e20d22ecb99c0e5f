namespace SessionMesh.Model;

/// <summary>One lease of an agent, as stored.</summary>
/// <param name="EndStatus">The terminal status once ended; null while open.</param>
/// <param name="Idle">The agent's last reported state: idle rather than active.</param>
/// <param name="StaleNotified">Whether the <c>session.stale</c> event was emitted for the current lapse.</param>
/// <param name="Progress">The agent's last reported progress: counters and activity.</param>
/// <param name="ProgressedAt">When a counter last grew; the stall clock runs from it (from the start before any).</param>
/// <param name="StallAfter">Seconds without progress after which the session counts as stalled; null: never.</param>
/// <param name="OnStall">What the mesh does when the session stalls: <c>none</c>, <c>message</c> or <c>kill</c>.</param>
/// <param name="StallNotified">Whether the <c>session.stalled</c> event was emitted for the current stall.</param>
/// <param name="Budget">The limits on the agent's rolled-up usage (its own and its descendants'); null: none.</param>
/// <param name="BudgetUsed">With a budget: the usage charged to it so far (the agent's and its descendants' reports).</param>
/// <param name="ChargeTo">The sessions whose budgets this session's reports count against: its own, then its ancestors'.</param>
/// <param name="BudgetAlert">With a budget: <c>warned</c> once past the soft limit, <c>exceeded</c> once spent.</param>
/// <param name="ExitCode">The exit code of the agent's process, when it left saying so.</param>
/// <param name="Charged">
/// With replicas: this session's counters as far as they are charged to the budgets in <see cref="ChargeTo"/>. The store
/// keeps it and only the charge writes it, so a report through any replica charges only what grew since (never a lease field).
/// </param>
public sealed record SessionRecord(
    string SessionId,
    string Cluster,
    string AgentId,
    int Ttl,
    DateTimeOffset StartedAt,
    DateTimeOffset LastSeen,
    DateTimeOffset ExpiresAt,
    double? Load,
    bool Idle,
    int? MaxRuntime,
    SessionStatus? EndStatus = null,
    DateTimeOffset? EndedAt = null,
    string? EndReason = null,
    bool StaleNotified = false,
    AgentProgress? Progress = null,
    DateTimeOffset? ProgressedAt = null,
    int? StallAfter = null,
    string? OnStall = null,
    bool StallNotified = false,
    AgentBudget? Budget = null,
    AgentProgress? BudgetUsed = null,
    IReadOnlyList<string>? ChargeTo = null,
    string? BudgetAlert = null,
    int? ExitCode = null,
    AgentProgress? Charged = null)
{
    /// <summary>True until the session reaches a terminal status in the store.</summary>
    public bool IsOpen => EndStatus is null;

    /// <summary>The end of the grace after the TTL: past it an open session is expired.</summary>
    public DateTimeOffset GraceEndsAt => ExpiresAt.AddSeconds(Ttl);

    /// <summary>The status at <paramref name="now"/>, derived from the stored lease.</summary>
    public SessionStatus StatusAt(DateTimeOffset now) => StatusAt(now, ExpiresAt, Idle);

    /// <summary>
    /// The status at <paramref name="now"/> with the lease fields a renewal moves given apart (as memory has them), so a
    /// renewal in place is judged without making a record.
    /// </summary>
    public SessionStatus StatusAt(DateTimeOffset now, DateTimeOffset expiresAt, bool idle)
    {
        if (EndStatus is { } ended)
        {
            return ended;
        }
        if (now <= expiresAt)
        {
            return idle ? SessionStatus.Idle : IsStalledAt(now) ? SessionStatus.Stalled : SessionStatus.Active;
        }
        return now <= expiresAt.AddSeconds(Ttl) ? SessionStatus.Stale : SessionStatus.Expired;
    }

    /// <summary>
    /// True when the session has a stall limit and no counter grew for that long at <paramref name="now"/> (its status is
    /// then <c>stalled</c>, unless the agent reported itself idle: an idle agent is not expected to progress).
    /// </summary>
    public bool IsStalledAt(DateTimeOffset now) =>
        StallAfter is { } seconds && now > (ProgressedAt ?? StartedAt).AddSeconds(seconds);
}
