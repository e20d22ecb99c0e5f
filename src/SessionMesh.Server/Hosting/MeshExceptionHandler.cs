using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using SessionMesh.Mesh;

namespace SessionMesh.Server.Hosting;

/// <summary>
/// Turns every failure into a problem+json: the mesh's own refusals mapped by <see cref="MeshErrorMapping"/>, bad
/// input (broken JSON, wrong types, unknown fields, oversized bodies) as 4xx naming the field, anything else as a 500
/// that leaks nothing. <see cref="ProblemOf"/> is also what the audit log records.
/// </summary>
internal sealed partial class MeshExceptionHandler(ILogger<MeshExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (context.Response.HasStarted)
        {
            return false;
        }
        if (exception is OperationCanceledException && context.RequestAborted.IsCancellationRequested)
        {
            return true;
        }
        if (exception is not (MeshException or BadHttpRequestException or System.Data.Common.DbException { IsTransient: true }))
        {
            LogUnhandled(logger, exception, context.Request.Method, SessionMesh.Security.KeySecrets.Redact(context.Request.Path.Value ?? ""), RequestTrace.IdOf(context));
        }
        await Problems.WriteAsync(context, ProblemOf(context, exception), exception);
        return true;
    }

    /// <summary>The status and code the handler answers an exception with, for the audit log.</summary>
    public static (int Status, string Code) OutcomeOf(HttpContext context, Exception exception)
    {
        if (exception is OperationCanceledException)
        {
            return (499, "client_closed_request");
        }
        var problem = ProblemOf(context, exception);
        return (problem.Status, problem.Code);
    }

    /// <summary>
    /// The problem an exception is answered with: the mesh's refusals through <see cref="MeshErrorMapping"/>, bad input
    /// as 4xx naming the field, anything else as a 500 that leaks nothing.
    /// </summary>
    public static MeshProblem ProblemOf(HttpContext context, Exception exception) => exception switch
    {
        MeshException mesh => MeshErrorMapping.ProblemOf(mesh),
        BadHttpRequestException bad => BadRequestOf(context, bad),
        // A shared database (PostgreSQL) that does not answer: the request is refused at once, nothing of it was kept.
        System.Data.Common.DbException { IsTransient: true } => new(503, "store_unavailable", "Store unavailable",
            "The database did not answer; nothing of this request was kept. Retry shortly."),
        _ => new(500, "internal_error", "Internal server error", "The server failed to handle the request; the error is logged with this trace id."),
    };

    private static MeshProblem BadRequestOf(HttpContext context, BadHttpRequestException bad)
    {
        if (bad.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return new(413, "payload_too_large", "Payload too large", "The request body is larger than the 1 MiB limit.");
        }
        if (bad.InnerException is JsonException json)
        {
            var (field, detail) = Describe(json);
            return Invalid(detail, field);
        }
        if (BindFailure().Match(bad.Message) is { Success: true } bind)
        {
            var parameter = JsonNamingPolicy.SnakeCaseLower.ConvertName(bind.Groups["name"].Value);
            return Invalid($"Parameter '{parameter}' must be {KindOf(bind.Groups["type"].Value)}, not '{bind.Groups["value"].Value}'.", parameter);
        }
        if (IsMissingBody(context, bad))
        {
            return Invalid("A JSON object is required as the request body.");
        }
        return new(bad.StatusCode, "bad_request", "Bad request", bad.Message);
    }

    private static MeshProblem Invalid(string detail, string? field = null) =>
        new(StatusCodes.Status400BadRequest, "validation_failed", MeshException.TitleOf(MeshErrorKind.Invalid), detail, field);

    /// <summary>No body, or a body of <c>null</c>: the framework says "no body was provided" either way.</summary>
    private static bool IsMissingBody(HttpContext context, BadHttpRequestException bad) =>
        bad.Message.Contains("no body was provided", StringComparison.OrdinalIgnoreCase)
        || (context.Request.ContentLength is null or 0 && bad.Message.Contains("body", StringComparison.OrdinalIgnoreCase));

    [System.Text.RegularExpressions.GeneratedRegex("""Failed to bind parameter "(?<type>\S+) (?<name>\w+)" from "(?<value>.*)"\.?""")]
    private static partial System.Text.RegularExpressions.Regex BindFailure();

    [System.Text.RegularExpressions.GeneratedRegex("""'(?<name>[^']+)' could not be mapped""")]
    private static partial System.Text.RegularExpressions.Regex UnmappedMember();

    /// <summary>A CLR parameter type in words a client understands.</summary>
    private static string KindOf(string type) => type.Replace("Nullable<", "", StringComparison.Ordinal).TrimEnd('>', '?') switch
    {
        "int" or "Int32" or "long" or "Int64" => "a whole number",
        "double" or "Double" or "decimal" => "a number",
        "bool" or "Boolean" => "true or false",
        _ => "a " + type,
    };

    /// <summary>The field a JSON error is about (<c>$.labels.team</c> → <c>labels.team</c>), and what is wrong with it.</summary>
    private static (string? Field, string Detail) Describe(JsonException json)
    {
        var path = string.IsNullOrEmpty(json.Path) || json.Path == "$" ? null
            : json.Path.StartsWith("$.", StringComparison.Ordinal) ? json.Path[2..] : json.Path.TrimStart('$');
        if (UnmappedMember().Match(json.Message) is { Success: true } unmapped)
        {
            var name = unmapped.Groups["name"].Value;
            // The path of an unknown member is the object holding it; name the member itself.
            var field = path is null || path == name || path.EndsWith("." + name, StringComparison.Ordinal) ? path ?? name : $"{path}.{name}";
            return (field, $"Unknown field '{field}'.");
        }
        if (json.InnerException is InvalidOperationException inner && inner.Message.Contains("UTF-", StringComparison.Ordinal))
        {
            // The reader could not turn the field's bytes into a string: invalid UTF-8, or a lone surrogate escape.
            return (path, $"Field '{path ?? "$"}' holds text that is not valid Unicode (invalid UTF-8 or a lone surrogate).");
        }
        if (path is null)
        {
            return (null, json.Message.Contains("could not be converted", StringComparison.Ordinal)
                ? "The request body must be a JSON object."
                : "The request body is not valid JSON.");
        }
        return json.Message.Contains("could not be converted", StringComparison.Ordinal)
            ? (path, $"Field '{path}' has the wrong type.")
            : (path, $"Field '{path}' is not valid JSON.");
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled error on {Method} {Path}, trace_id {TraceId}")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string method, string path, string traceId);
}
