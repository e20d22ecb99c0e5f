using SessionMesh.Model;

namespace SessionMesh.Mesh;

/// <summary>
/// The audit entry of the call being served, written in the same transaction as the call's write: a write that is
/// durable is never without its entry. The host opens a draft for each audited call (<see cref="MeshAudit.Current"/> flows with
/// the call); the first write the call commits through the mesh appends it. A call that commits nothing (refused,
/// failed) is recorded by the host after its answer instead.
/// </summary>
public sealed class AuditDraft(string keyId, string cluster, string method, string path, DateTimeOffset at, int successStatus)
{
    private int _written;

    /// <summary>
    /// The cluster the entry is filed under: the caller's until the service doing the write names the cluster the write
    /// touches (<see cref="MeshAudit.InCluster"/>), which a body field, a query parameter or the thing named decides.
    /// </summary>
    public string Cluster { get; set; } = cluster;

    /// <summary>The status the call answers when it succeeds (from the endpoint's declared result).</summary>
    public int SuccessStatus { get; } = successStatus;

    /// <summary>For calls that answer 201 or 200 depending on whether they created something: which it was.</summary>
    public bool? Created { get; set; }

    /// <summary>What the entry records of a successful call beyond its status (e.g. a kill's propagation); null: nothing.</summary>
    public string? Code { get; set; }

    /// <summary>True once the entry is in a committed write.</summary>
    public bool Written => Volatile.Read(ref _written) == 1;

    /// <summary>The entry as the successful call's write records it.</summary>
    public AuditRecord ToRecord() =>
        new(0, at, keyId, Cluster, method, path, Created switch { true => 201, false => 200, null => SuccessStatus }, Code);

    internal void MarkWritten() => Volatile.Write(ref _written, 1);
}

/// <summary>The audit draft of the call this code runs for, if the host opened one.</summary>
public static class MeshAudit
{
    private static readonly AsyncLocal<AuditDraft?> s_current = new();

    /// <summary>The draft of the current call; null outside an audited call.</summary>
    public static AuditDraft? Current
    {
        get => s_current.Value;
        set => s_current.Value = value;
    }

    /// <summary>
    /// Files the current call's entry under <paramref name="cluster"/>, the cluster its write touches: a service calls
    /// this once it has resolved (and checked) the cluster, so an entry never shows one cluster's ids to another's keys.
    /// </summary>
    public static void InCluster(string cluster)
    {
        if (s_current.Value is { } draft)
        {
            draft.Cluster = cluster;
        }
    }
}
