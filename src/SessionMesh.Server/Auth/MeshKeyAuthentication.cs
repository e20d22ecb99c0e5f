using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SessionMesh.Security;
using SessionMesh.Server.Hosting;

namespace SessionMesh.Server.Auth;

/// <summary>
/// Bearer session keys: authenticates from the key cache (no store read for a known key), and answers refusals as problem+json —
/// 401 with <c>WWW-Authenticate: Bearer error="invalid_token"</c>, 403 for a missing scope.
/// </summary>
internal sealed class MeshKeyAuthentication(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    KeyAuthenticator authenticator)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "SessionKey";

    private AuthFailure _failure = AuthFailure.MissingKey;

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        string? token = null;
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            token = header["Bearer ".Length..].Trim();
        }
        else if (header.Length > 0)
        {
            _failure = AuthFailure.InvalidKey;
            return AuthenticateResult.Fail("The Authorization header is not a bearer token.");
        }
        var (caller, failure) = await authenticator.AuthenticateAsync(token, Context.RequestAborted);
        _failure = failure;
        return caller is null
            ? AuthenticateResult.Fail(failure.ToString())
            : AuthenticateResult.Success(new AuthenticationTicket(new(new MeshIdentity(caller)), SchemeName));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var (code, detail) = _failure switch
        {
            AuthFailure.KeyExpired => ("key_expired", "The session key has expired; mint a new one with POST /api/session-mesh/keys."),
            AuthFailure.KeyRevoked => ("key_revoked", "The session key has been revoked."),
            AuthFailure.InvalidKey => ("invalid_key", "The session key is not valid."),
            _ => ("missing_key", "Send a session key: 'Authorization: Bearer <session_key>'."),
        };
        // Problems adds WWW-Authenticate: Bearer ... error_description="<code>" to every 401.
        return Problems.WriteAsync(Context, 401, code, "Unauthorized", detail);
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        Problems.WriteAsync(Context, 403, "insufficient_scope", "Forbidden", "This key may not do that.");
}
