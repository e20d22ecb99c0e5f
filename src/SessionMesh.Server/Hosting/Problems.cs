using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using SessionMesh.Contracts;

namespace SessionMesh.Server.Hosting;

/// <summary>Writes RFC 9457 problems in the one shape the API uses everywhere.</summary>
internal static class Problems
{
    public const string ContentType = "application/problem+json";

    /// <summary>Key of <see cref="HttpContext.Items"/> holding the code of the problem answered, for the audit log.</summary>
    public const string CodeItem = "session-mesh.problem-code";

    public static ProblemResponse Create(HttpContext context, int status, string code, string title, string detail, string? field = null) => new()
    {
        Type = $"https://session-mesh.dev/problems/{code}",
        Title = title,
        Status = status,
        Detail = detail,
        Code = code,
        Field = field,
        Instance = context.Request.Path,
        TraceId = Activity.Current?.Id ?? context.TraceIdentifier,
    };

    public static async Task WriteAsync(HttpContext context, int status, string code, string title, string detail, string? field = null)
    {
        context.Items[CodeItem] = code;
        context.Response.StatusCode = status;
        context.Response.ContentType = ContentType;
        await JsonSerializer.SerializeAsync(context.Response.Body, Create(context, status, code, title, detail, field), MeshJsonContext.Default.ProblemResponse, context.RequestAborted);
    }
}
