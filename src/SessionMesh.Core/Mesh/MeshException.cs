namespace SessionMesh.Mesh;

/// <summary>
/// A request the mesh refuses: its <see cref="Kind"/>, a stable machine <see cref="Code"/>, a title, a detail for people
/// (the message) and, for bad input, the <see cref="Field"/> at fault. Transports decide how a kind is answered.
/// </summary>
public sealed class MeshException(MeshErrorKind kind, string code, string detail, string? field = null, string? title = null, Exception? innerException = null)
    : Exception(detail, innerException)
{
    public MeshErrorKind Kind { get; } = kind;

    /// <summary>A stable machine code: <c>agent_not_found</c>, <c>validation_failed</c>, ...</summary>
    public string Code { get; } = code;

    /// <summary>A short summary of the kind of refusal, the same for every refusal of that kind unless given.</summary>
    public string Title { get; } = title ?? TitleOf(kind);

    /// <summary>The request field at fault, when there is one.</summary>
    public string? Field { get; } = field;

    public static MeshException Invalid(string field, string detail) =>
        new(MeshErrorKind.Invalid, "validation_failed", detail, field);

    /// <summary>The key stopped being valid during a long request (revoked, expired).</summary>
    public static MeshException Unauthorized(string code, string detail) => new(MeshErrorKind.Unauthorized, code, detail);

    public static MeshException NotFound(string code, string detail) => new(MeshErrorKind.NotFound, code, detail);

    public static MeshException Forbidden(string code, string detail, string? field = null) =>
        new(MeshErrorKind.Forbidden, code, detail, field);

    public static MeshException Conflict(string code, string detail) => new(MeshErrorKind.Conflict, code, detail);

    public static MeshException Gone(string code, string detail) => new(MeshErrorKind.Gone, code, detail);

    /// <summary>The store could not take a write for want of space (<paramref name="cause"/> is the store's own error).</summary>
    public static MeshException StorageFull(Exception cause) =>
        new(MeshErrorKind.StorageFull, "storage_full",
            "The server's storage is full, so nothing of this request was kept; retry once space is freed.", innerException: cause);

    public static MeshException AgentNotFound(string agentId) =>
        NotFound("agent_not_found", $"No agent '{agentId}' in this cluster.");

    public static MeshException SessionNotFound(string sessionId) =>
        NotFound("session_not_found", $"No session '{sessionId}'.");

    /// <summary>The title every refusal of <paramref name="kind"/> carries unless it names its own.</summary>
    public static string TitleOf(MeshErrorKind kind) => kind switch
    {
        MeshErrorKind.Invalid => "Invalid request",
        MeshErrorKind.Unauthorized => "Unauthorized",
        MeshErrorKind.Forbidden => "Forbidden",
        MeshErrorKind.NotFound => "Not found",
        MeshErrorKind.Conflict => "Conflict",
        MeshErrorKind.Gone => "Gone",
        MeshErrorKind.StorageFull => "Insufficient storage",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };
}
