using SessionMesh.Model;
using SessionMesh.Security;

namespace SessionMesh.Mesh;

/// <summary>
/// Keeps a long-lived stream honest about the key that opened it: a stream checks it at every wake-up, wakes when
/// the key is revoked (<see cref="SignalKeys.Key"/>) and when it expires, and ends then.
/// </summary>
internal sealed class KeyValidity(MeshRuntime mesh, MeshCaller caller)
{
    /// <summary>Cancelled when the key is revoked; take it before <see cref="CheckAsync"/>.</summary>
    public CancellationToken Revoked() => mesh.Signals.NextCancellation(SignalKeys.Key(caller.KeyId));

    /// <summary>How long until the key expires, capped at <paramref name="cap"/>.</summary>
    public TimeSpan Until(TimeSpan cap) =>
        caller.ExpiresAt is { } expires && expires - mesh.Time.GetUtcNow() < cap ? expires - mesh.Time.GetUtcNow() : cap;

    /// <summary>Null while the key is valid; else why not, as a code and a reason.</summary>
    public async ValueTask<(string Code, string Reason)?> CheckAsync(CancellationToken cancellationToken)
    {
        // From memory: the cache learns of a revocation before the signal that wakes this stream is raised.
        var key = await mesh.Keys.GetAsync(caller.KeyId, cancellationToken);
        return key?.StateAt(mesh.Time.GetUtcNow()) switch
        {
            "active" => null,
            "expired" => ("key_expired", "The session key expired; open the stream again with a valid key."),
            _ => ("key_revoked", "The session key was revoked; open the stream again with a valid key."),
        };
    }
}
