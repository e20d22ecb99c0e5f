namespace SessionMesh.Client.Http;

/// <summary>Per-request flags carried through the handler chain in <see cref="HttpRequestMessage.Options"/>.</summary>
internal static class MeshRequestOptions
{
    /// <summary>The request is safe to repeat although its method is not idempotent (registry writes, heartbeats, acks).</summary>
    public static readonly HttpRequestOptionsKey<bool> Retryable = new("SessionMesh.Retryable");

    /// <summary>Authenticate with this key instead of the client's, and never refresh it (used to mint).</summary>
    public static readonly HttpRequestOptionsKey<string> BearerOverride = new("SessionMesh.BearerOverride");

    /// <summary>Counts attempts on the wire, so an unreachable server can be reported with the number tried.</summary>
    public static readonly HttpRequestOptionsKey<AttemptCounter> Attempts = new("SessionMesh.Attempts");
}

internal sealed class AttemptCounter
{
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public void Increment() => Interlocked.Increment(ref _count);
}
