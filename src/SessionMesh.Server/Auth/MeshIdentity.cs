using System.Runtime.CompilerServices;
using System.Security.Claims;
using SessionMesh.Security;

namespace SessionMesh.Server.Auth;

/// <summary>The identity of an authenticated request: carries the calling key.</summary>
internal sealed class MeshIdentity(MeshCaller caller)
    : ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, caller.KeyId)], SchemeName)
{
    /// <summary>The authentication type of every mesh identity: a bearer session key.</summary>
    public const string SchemeName = "SessionKey";

    // One principal per caller, and the key authenticator keeps one caller per stored key: a request of a known key
    // allocates none. Nothing changes a principal once made, so requests of one key share it.
    private static readonly ConditionalWeakTable<MeshCaller, ClaimsPrincipal> s_principals = [];

    public MeshCaller Caller { get; } = caller;

    /// <summary>The principal of <paramref name="caller"/>, made on its first request.</summary>
    public static ClaimsPrincipal PrincipalOf(MeshCaller caller) =>
        s_principals.GetValue(caller, static c => new ClaimsPrincipal(new MeshIdentity(c)));
}

internal static class ClaimsPrincipalExtensions
{
    /// <summary>The key behind an authenticated request.</summary>
    public static MeshCaller Caller(this ClaimsPrincipal user) =>
        (user.Identity as MeshIdentity)?.Caller ?? throw new InvalidOperationException("The endpoint is not behind authentication.");
}
