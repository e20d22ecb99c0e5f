namespace SessionMesh.Mesh;

/// <summary>
/// Decides which server runs expiry, sweeps and retention. One server alone always leads; replicas sharing a store
/// elect one (PostgreSQL: an advisory lock). A server that gains the lead extends every open lease first, so the
/// time nobody led never expires a fleet.
/// </summary>
public interface ILeaseLeader
{
    /// <summary>True when this server leads now; takes the lead when it is free.</summary>
    ValueTask<bool> TryLeadAsync(CancellationToken cancellationToken);

    /// <summary>
    /// How many servers share the store now, this one included: 1 for a single server; for replicas, as counted at the
    /// last <see cref="TryLeadAsync"/>. Limits meant for the whole mesh (a key's request rate) are split by it.
    /// </summary>
    int Replicas { get; }
}

/// <summary>The leader of a single server: always this one.</summary>
public sealed class SingleServerLeader : ILeaseLeader
{
    /// <inheritdoc />
    public ValueTask<bool> TryLeadAsync(CancellationToken cancellationToken) => ValueTask.FromResult(true);

    /// <inheritdoc />
    public int Replicas => 1;
}
