namespace SessionMesh.Mesh;

/// <summary>
/// What kind of refusal a <see cref="MeshException"/> is. Core knows nothing of transports: the HTTP server maps a kind
/// to a status, the MCP server to a tool error.
/// </summary>
public enum MeshErrorKind
{
    /// <summary>The request itself is wrong: a field is missing, malformed or out of range.</summary>
    Invalid,

    /// <summary>The caller's key is not (or no longer) valid.</summary>
    Unauthorized,

    /// <summary>The key is valid but may not do this.</summary>
    Forbidden,

    /// <summary>What the request names does not exist (or is not visible to the key).</summary>
    NotFound,

    /// <summary>The request contradicts the current state (a limit, a completed command, an agent not alive).</summary>
    Conflict,

    /// <summary>What the request names existed but has ended for good (an ended session, compacted history).</summary>
    Gone,

    /// <summary>The store has no room left for the write (a full disk); nothing of it was kept. Retry once space is freed.</summary>
    StorageFull,
}
