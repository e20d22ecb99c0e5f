using SessionMesh.Client;

namespace SessionMesh.Cli;

/// <summary>One line per failure: what is wrong, and what to do about it.</summary>
internal static class ErrorMessages
{
    public static int ExitCodeFor(SessionMeshException exception) => IsForeignServer(exception) ? ExitCodes.Unreachable : exception.Status switch
    {
        404 => ExitCodes.NotFound,
        401 or 403 => ExitCodes.Unauthorized,
        409 => ExitCodes.Conflict,
        400 or 413 or 422 => ExitCodes.Usage,
        _ => ExitCodes.Error,
    };

    /// <summary>
    /// A 404 or 405 without the mesh's problem code: something else answers at --server (a web server, a proxy
    /// without the route), so "check the id" would send the user the wrong way.
    /// </summary>
    public static bool IsForeignServer(SessionMeshException exception) =>
        exception.Status is 404 or 405 && exception.Code is null;

    public static string Describe(SessionMeshException exception, Uri server)
    {
        if (IsForeignServer(exception))
        {
            return $"the server at {server} answered HTTP {exception.Status} ({exception.Title ?? "no details"}) without a session-mesh error: it is not a session-mesh server. Point --server / {CliContext.ServerVariable} at one (default http://127.0.0.1:7780).";
        }
        var what = exception.Detail ?? exception.Title ?? $"the server answered HTTP {exception.Status}";
        var code = exception.Code is { } c ? $"{exception.Status} {c}" : $"{exception.Status}";
        var hint = Hint(exception);
        return hint is null ? $"{what} ({code})" : $"{what} ({code}). {hint}";
    }

    private static string? Hint(SessionMeshException exception) => (exception.Status, exception.Code) switch
    {
        (404, "agent_not_found") => "Check the id with `session-mesh list --filter all`.",
        (404, "key_not_found") => "`session-mesh keys list` shows the keys you can see.",
        (404, "session_not_found") => "The session id is unknown here; `session-mesh list --filter all` shows sessions.",
        (404, "command_not_found") => "Check the command id printed by `session-mesh steer`; `session-mesh commands --agent-id ID` lists an agent's commands.",
        (404 or 405, "route_not_found" or "method_not_allowed") => "This server does not offer that endpoint: is --server pointing at a session-mesh server of the same version?",
        (404, _) => "Check the id and the --cluster.",
        (401, "missing_key") => $"Export a key: export {CliContext.KeyVariable}=<key>.",
        (401, _) => $"The key in {CliContext.KeyVariable} is not accepted; mint a new one with `session-mesh keys create` (using a key that still works) and export it, or set {CliContext.MintingKeyVariable} so the CLI mints one itself.",
        (403, _) => "Use a key with the scope this needs (`session-mesh keys self` shows this key's scopes).",
        (409, "agent_not_alive") => "The agent has no live session; pass --queue to deliver it when the agent next joins.",
        (409, "spawn_limit_exceeded") => "The parent has too many live children or the tree is too deep.",
        (409, "lock_held" or "lock_delay") => "Another session holds the lock (or its dead holder's lock-delay runs); pass --wait SECONDS to wait for it.",
        (410, "revision_compacted") => "That revision is older than the retained history; re-list with `session-mesh list` and watch from now.",
        (429, _) => "Rate limited even after retries; wait a moment and try again.",
        (507, "storage_full") => "The server's disk is full; nothing was kept. Free space on the server (its /readyz says when it takes writes again), then retry.",
        (>= 500, _) => "The server failed even after retries; see its log (run it with --log-format text).",
        _ => null,
    };

    /// <summary>The server could not be reached: say why in the user's terms (TLS against plain HTTP, nothing listening).</summary>
    public static string Describe(SessionMeshConnectionException exception)
    {
        for (Exception? inner = exception; inner is not null; inner = inner.InnerException)
        {
            if (inner is System.Security.Authentication.AuthenticationException && exception.Server.Scheme == Uri.UriSchemeHttps)
            {
                var plain = new UriBuilder(exception.Server) { Scheme = Uri.UriSchemeHttp, Port = exception.Server.Port }.Uri;
                return $"cannot open a TLS connection to {exception.Server}: the server did not answer TLS. session-mesh serves plain HTTP; use --server {plain} (or put a TLS proxy in front).";
            }
        }
        return $"{exception.Message}. Is the server running? Start one with `session-mesh serve`, or point --server / {CliContext.ServerVariable} at it.";
    }
}
