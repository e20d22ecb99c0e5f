using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Net.Http.Headers;

namespace SessionMesh.Server.Hosting;

/// <summary>
/// RFC 9457 problems in the one shape the API uses everywhere, written through <see cref="IProblemDetailsService"/>:
/// <c>type, title, status, detail, instance, code, field?, trace_id</c>.
/// </summary>
internal static class Problems
{
    public const string ContentType = "application/problem+json";

    /// <summary>Key of <see cref="HttpContext.Items"/> holding the code of the problem answered, for the audit log.</summary>
    public const string CodeItem = "session-mesh.problem-code";

    private const string TypePrefix = "https://session-mesh.dev/problems/";

    public static Task WriteAsync(HttpContext context, int status, string code, string title, string detail, string? field = null) =>
        WriteAsync(context, new MeshProblem(status, code, title, detail, field));

    public static async Task WriteAsync(HttpContext context, MeshProblem problem, Exception? exception = null)
    {
        context.Response.StatusCode = problem.Status;
        var details = new ProblemDetails { Status = problem.Status, Title = problem.Title, Detail = problem.Detail };
        details.Extensions["code"] = problem.Code;
        if (problem.Field is not null)
        {
            details.Extensions["field"] = problem.Field;
        }
        await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = details,
            Exception = exception,
        });
    }

    /// <summary>
    /// <see cref="ProblemDetailsOptions.CustomizeProblemDetails"/>: adds what every problem carries — <c>type</c> from the code,
    /// <c>instance</c>, <c>trace_id</c> — in the wire order, notes the code for the audit, and challenges a 401 like the
    /// authentication handler does.
    /// </summary>
    public static void Customize(ProblemDetailsContext context)
    {
        var http = context.HttpContext;
        var problem = context.ProblemDetails;
        var status = problem.Status ?? http.Response.StatusCode;
        var code = problem.Extensions.TryGetValue("code", out var c) && c is string known ? known : "http_" + status;
        var field = problem.Extensions.TryGetValue("field", out var f) && f is string named ? SessionMesh.Security.KeySecrets.Redact(named) : null;

        problem.Type = TypePrefix + code;
        problem.Title ??= Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status);
        // Anything a client sent that reaches the answer (an id in the path, a field name, a value) loses any secret in it.
        problem.Instance = SessionMesh.Security.KeySecrets.Redact(http.Request.Path.Value ?? "");
        problem.Detail = problem.Detail is null ? null : SessionMesh.Security.KeySecrets.Redact(problem.Detail);
        problem.Title = SessionMesh.Security.KeySecrets.Redact(problem.Title);
        // Rebuilt, not amended: the members go out in this order, and nothing the framework added (traceId) leaks through.
        problem.Extensions.Clear();
        problem.Extensions["code"] = code;
        if (field is not null)
        {
            problem.Extensions["field"] = field;
        }
        problem.Extensions["trace_id"] = RequestTrace.IdOf(http);

        http.Items[CodeItem] = code;
        if (status == StatusCodes.Status401Unauthorized && !http.Response.HasStarted)
        {
            http.Response.Headers[HeaderNames.WWWAuthenticate] = $"Bearer realm=\"session-mesh\", error=\"invalid_token\", error_description=\"{code}\"";
        }
    }
}
