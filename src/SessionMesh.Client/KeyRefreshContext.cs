using SessionMesh.Contracts;
using SessionMesh.Client.Http;

namespace SessionMesh.Client;

/// <summary>What a <see cref="SessionMeshClientOptions.KeyRefresh"/> callback gets: the rejected key and a way to mint.</summary>
public sealed class KeyRefreshContext
{
    private readonly MeshTransport _transport;

    internal KeyRefreshContext(MeshTransport transport, string? rejectedKey, SessionMeshException rejection)
    {
        _transport = transport;
        RejectedKey = rejectedKey;
        Rejection = rejection;
    }

    /// <summary>The key the server refused.</summary>
    public string? RejectedKey { get; }

    /// <summary>The 401 as the server described it (<c>key_expired</c>, <c>key_revoked</c>, ...).</summary>
    public SessionMeshException Rejection { get; }

    /// <summary>Mints a key through <c>POST /keys</c>, authenticated with <paramref name="mintingKey"/>.</summary>
    public Task<CreatedKeyView> MintAsync(string mintingKey, CreateKeyRequest request, CancellationToken cancellationToken) =>
        _transport.SendAsync(
            HttpMethod.Post, "keys", request, MeshJsonContext.Default.CreateKeyRequest, MeshJsonContext.Default.CreatedKeyView,
            new MeshCallOptions { BearerOverride = mintingKey, IdempotencyKey = MeshTransport.NewIdempotencyKey() },
            cancellationToken);
}
