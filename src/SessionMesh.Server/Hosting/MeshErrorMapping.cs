using Microsoft.AspNetCore.Http;
using SessionMesh.Mesh;

namespace SessionMesh.Server.Hosting;

/// <summary>
/// The one place a domain refusal (<see cref="MeshException"/>) becomes an HTTP answer. The response (the exception
/// handler) and the audit entry both come from here; a transport without HTTP (MCP) maps <see cref="MeshErrorKind"/> itself.
/// </summary>
internal static class MeshErrorMapping
{
    public static int StatusOf(MeshErrorKind kind) => kind switch
    {
        MeshErrorKind.Invalid => StatusCodes.Status400BadRequest,
        MeshErrorKind.Unauthorized => StatusCodes.Status401Unauthorized,
        MeshErrorKind.Forbidden => StatusCodes.Status403Forbidden,
        MeshErrorKind.NotFound => StatusCodes.Status404NotFound,
        MeshErrorKind.Conflict => StatusCodes.Status409Conflict,
        MeshErrorKind.Gone => StatusCodes.Status410Gone,
        MeshErrorKind.StorageFull => StatusCodes.Status507InsufficientStorage,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "A MeshErrorKind without an HTTP status."),
    };

    public static MeshProblem ProblemOf(MeshException exception) =>
        new(StatusOf(exception.Kind), exception.Code, exception.Title, exception.Message, exception.Field);
}
