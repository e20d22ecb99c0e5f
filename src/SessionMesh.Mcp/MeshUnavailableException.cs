namespace SessionMesh.Mcp;

/// <summary>
/// The mesh did not answer the operation (unreachable, overloaded, rate limited) after the client's retries: a
/// condition of the moment, not a refusal of the request.
/// </summary>
public sealed class MeshUnavailableException(string code, string message, Exception? innerException = null)
    : Exception(message, innerException)
{
    /// <summary><c>server_unreachable</c>, <c>rate_limited</c>, <c>http_503</c>, ...</summary>
    public string Code { get; } = code;
}
