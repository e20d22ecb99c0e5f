namespace SessionMesh.Client;

/// <summary>The server could not be reached (connection refused, reset, timed out) even after the retries.</summary>
public sealed class SessionMeshConnectionException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SessionMeshConnectionException(Uri server, int attempts, Exception innerException)
        : base($"cannot reach the session-mesh server at {server} after {attempts} attempt{(attempts == 1 ? "" : "s")}: {Describe(innerException)}", innerException)
    {
        Server = server;
        Attempts = attempts;
    }

    /// <summary>The server address that was tried.</summary>
    public Uri Server { get; }

    /// <summary>How many attempts were made.</summary>
    public int Attempts { get; }

    private static string Describe(Exception exception)
    {
        var innermost = exception;
        while (innermost.InnerException is not null)
        {
            innermost = innermost.InnerException;
        }
        return innermost.Message;
    }
}
