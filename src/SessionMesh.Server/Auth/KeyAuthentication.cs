using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Primitives;
using SessionMesh.Security;

namespace SessionMesh.Server.Auth;

/// <summary>
/// Authenticates every request's bearer session key from the key cache (no store read for a known key) and sets
/// <see cref="HttpContext.User"/> to the key's principal, made once per key. A request without a valid key goes on
/// anonymous, with the reason kept for <see cref="KeyAuthorization"/>: endpoints that take no key still answer it, and
/// the rate limiter, which runs in between, counts it against its address. The pair stands in for ASP.NET Core's
/// authentication and authorization middleware, whose per-request handlers, policy evaluation and results were about
/// half of what a heartbeat allocated; a session key is the API's only scheme and a valid one its only policy.
/// </summary>
internal sealed class KeyAuthentication(RequestDelegate next, KeyAuthenticator authenticator)
{
    private const string Bearer = "Bearer";

    public Task InvokeAsync(HttpContext context)
    {
        var header = context.Request.Headers.Authorization;
        if (StringValues.IsNullOrEmpty(header))
        {
            return next(context);
        }
        var value = header[0]!;
        // The scheme, then a space and the key; the scheme alone (its trailing space trimmed in transit) sent no key.
        if (header.Count > 1 || !value.StartsWith(Bearer, StringComparison.OrdinalIgnoreCase) || (value.Length > Bearer.Length && value[Bearer.Length] != ' '))
        {
            Refuse(context, AuthFailure.InvalidKey);
            return next(context);
        }
        var pending = authenticator.AuthenticateAsync(value.AsSpan(Bearer.Length).Trim().ToString(), context.RequestAborted);
        if (!pending.IsCompletedSuccessfully)
        {
            return AuthenticateAsync(context, pending);
        }
        Apply(context, pending.Result);
        return next(context);
    }

    private async Task AuthenticateAsync(HttpContext context, ValueTask<(MeshCaller? Caller, AuthFailure Failure)> pending)
    {
        Apply(context, await pending);
        await next(context);
    }

    private static void Apply(HttpContext context, (MeshCaller? Caller, AuthFailure Failure) result)
    {
        if (result.Caller is { } caller)
        {
            context.User = MeshIdentity.PrincipalOf(caller);
        }
        else
        {
            Refuse(context, result.Failure);
        }
    }

    private static void Refuse(HttpContext context, AuthFailure failure) => context.Features.Set(new KeyRefusal(failure));

    /// <summary>Why a request that sent a key goes on without one.</summary>
    internal sealed record KeyRefusal(AuthFailure Failure);
}
