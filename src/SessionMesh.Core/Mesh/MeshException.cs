namespace SessionMesh.Mesh;

/// <summary>
/// A request the mesh refuses, with everything an RFC 9457 problem needs: HTTP status, stable machine
/// <see cref="Code"/>, a title, a detail for people and, for bad input, the <see cref="Field"/> at fault.
/// </summary>
public sealed class MeshException(int status, string code, string title, string detail, string? field = null)
    : Exception(detail)
{
    public int Status { get; } = status;
    public string Code { get; } = code;
    public string Title { get; } = title;
    public string? Field { get; } = field;

    public static MeshException Invalid(string field, string detail) =>
        new(400, "validation_failed", "Invalid request", detail, field);

    /// <summary>The key stopped being valid during a long request (revoked, expired).</summary>
    public static MeshException Unauthorized(string code, string detail) => new(401, code, "Unauthorized", detail);

    public static MeshException NotFound(string code, string detail) => new(404, code, "Not found", detail);

    public static MeshException Forbidden(string code, string detail, string? field = null) =>
        new(403, code, "Forbidden", detail, field);

    public static MeshException Conflict(string code, string detail) => new(409, code, "Conflict", detail);

    public static MeshException Gone(string code, string detail) => new(410, code, "Gone", detail);

    public static MeshException AgentNotFound(string agentId) =>
        NotFound("agent_not_found", $"No agent '{agentId}' in this cluster.");

    public static MeshException SessionNotFound(string sessionId) =>
        NotFound("session_not_found", $"No session '{sessionId}'.");
}
