using System.Security.Claims;
using SessionMesh.Security;

namespace SessionMesh.Server.Auth;

/// <summary>The identity of an authenticated request: carries the calling key.</summary>
internal sealed class MeshIdentity(MeshCaller caller)
    : ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, caller.KeyId)], MeshKeyAuthentication.SchemeName)
{
    public MeshCaller Caller { get; } = caller;
}

internal static class ClaimsPrincipalExtensions
{
    /// <summary>The key behind an authenticated request.</summary>
    public static MeshCaller Caller(this ClaimsPrincipal user) =>
        user.Identities.OfType<MeshIdentity>().FirstOrDefault()?.Caller
        ?? throw new InvalidOperationException("The endpoint is not behind authentication.");
}
