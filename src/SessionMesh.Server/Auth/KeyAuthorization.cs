using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using SessionMesh.Security;
using SessionMesh.Server.Hosting;

namespace SessionMesh.Server.Auth;

/// <summary>
/// Refuses a request without a valid session key to an endpoint that requires one (<c>RequireAuthorization()</c>, and
/// no <c>AllowAnonymous()</c>), as problem+json: 401 with <c>WWW-Authenticate: Bearer error="invalid_token"</c> and a
/// code saying why (missing, invalid, expired or revoked key). What a key may do is checked by each operation against
/// its scopes (403), not here. A named policy or role on an endpoint is not something this server defines: such an
/// endpoint is refused outright rather than served without its check.
/// </summary>
internal sealed class KeyAuthorization(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (context.GetEndpoint() is not { } endpoint)
        {
            return next(context);
        }
        var required = endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>();
        for (var i = 0; i < required.Count; i++)
        {
            // Checked for every caller, a valid key included: a requirement this server cannot check never passes.
            if (required[i].Policy is not null || required[i].Roles is not null || required[i].AuthenticationSchemes is not null)
            {
                throw new InvalidOperationException($"The endpoint '{endpoint.DisplayName}' asks for a policy, role or scheme; the only requirement this server knows is a valid session key.");
            }
        }
        if (context.User.Identity is MeshIdentity || required.Count == 0 || endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null)
        {
            return next(context);
        }
        var (code, detail) = (context.Features.Get<KeyAuthentication.KeyRefusal>()?.Failure ?? AuthFailure.MissingKey) switch
        {
            AuthFailure.KeyExpired => ("key_expired", "The session key has expired; mint a new one with POST /api/session-mesh/keys."),
            AuthFailure.KeyRevoked => ("key_revoked", "The session key has been revoked."),
            AuthFailure.InvalidKey => ("invalid_key", "The session key is not valid."),
            _ => ("missing_key", "Send a session key: 'Authorization: Bearer <session_key>'."),
        };
        // Problems adds WWW-Authenticate: Bearer ... error_description="<code>" to every 401.
        return Problems.WriteAsync(context, 401, code, "Unauthorized", detail);
    }
}
