using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using SessionMesh.Mesh;

namespace SessionMesh.Server.Hosting;

/// <summary>
/// Turns every failure into a problem+json: the mesh's own refusals as they are, bad input (broken
/// JSON, wrong types, unknown fields, oversized bodies) as 4xx naming the field, anything else as a 500
/// that leaks nothing.
/// </summary>
internal sealed partial class MeshExceptionHandler(ILogger<MeshExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (context.Response.HasStarted)
        {
            return false;
        }
        switch (exception)
        {
            case MeshException mesh:
                await Problems.WriteAsync(context, mesh.Status, mesh.Code, mesh.Title, mesh.Message, mesh.Field);
                return true;
            case BadHttpRequestException bad:
                await WriteBadRequestAsync(context, bad);
                return true;
            case OperationCanceledException when context.RequestAborted.IsCancellationRequested:
                return true;
            default:
                LogUnhandled(logger, exception, context.Request.Method, context.Request.Path);
                await Problems.WriteAsync(context, 500, "internal_error", "Internal server error", "The server failed to handle the request; the error is logged with this trace id.");
                return true;
        }
    }

    /// <summary>The status and code the handler answers an exception with.</summary>
    public static (int Status, string Code) OutcomeOf(HttpContext context, Exception exception) => exception switch
    {
        MeshException mesh => (mesh.Status, mesh.Code),
        BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } => (413, "payload_too_large"),
        BadHttpRequestException { InnerException: JsonException } => (400, "validation_failed"),
        BadHttpRequestException bad when IsMissingBody(context, bad) || BindFailure().IsMatch(bad.Message) => (400, "validation_failed"),
        BadHttpRequestException bad => (bad.StatusCode, "bad_request"),
        OperationCanceledException => (499, "client_closed_request"),
        _ => (500, "internal_error"),
    };

    private static Task WriteBadRequestAsync(HttpContext context, BadHttpRequestException bad)
    {
        if (bad.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return Problems.WriteAsync(context, 413, "payload_too_large", "Payload too large", "The request body is larger than the 1 MiB limit.");
        }
        if (bad.InnerException is JsonException json)
        {
            var field = FieldOf(json.Path);
            return Problems.WriteAsync(context, 400, "validation_failed", "Invalid request", Describe(json, field), field);
        }
        if (BindFailure().Match(bad.Message) is { Success: true } bind)
        {
            var parameter = JsonNamingPolicy.SnakeCaseLower.ConvertName(bind.Groups["name"].Value);
            return Problems.WriteAsync(context, 400, "validation_failed", "Invalid request", $"Parameter '{parameter}' has the wrong type: '{bind.Groups["value"].Value}' is not a {bind.Groups["type"].Value.TrimEnd('?')}.", parameter);
        }
        if (IsMissingBody(context, bad))
        {
            return Problems.WriteAsync(context, 400, "validation_failed", "Invalid request", "A JSON request body is required.");
        }
        return Problems.WriteAsync(context, bad.StatusCode, "bad_request", "Bad request", bad.Message);
    }

    private static bool IsMissingBody(HttpContext context, BadHttpRequestException bad) =>
        context.Request.ContentLength is null or 0 && bad.Message.Contains("body", StringComparison.OrdinalIgnoreCase);

    [System.Text.RegularExpressions.GeneratedRegex("""Failed to bind parameter "(?<type>\S+) (?<name>\w+)" from "(?<value>.*)"\.?""")]
    private static partial System.Text.RegularExpressions.Regex BindFailure();

    /// <summary><c>$.labels.team</c> → <c>labels.team</c>; null for the root.</summary>
    private static string? FieldOf(string? path) =>
        string.IsNullOrEmpty(path) || path == "$" ? null : path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');

    private static string Describe(JsonException json, string? field)
    {
        var message = json.Message;
        if (message.Contains("could not be mapped to any .NET member", StringComparison.Ordinal))
        {
            var name = message.Split('\'') is { Length: > 2 } parts ? parts[1] : field;
            return $"Unknown field '{name}'.";
        }
        if (message.Contains("could not be converted", StringComparison.Ordinal))
        {
            return $"Field '{field}' has the wrong type.";
        }
        return field is null ? "The request body is not valid JSON." : $"Field '{field}' is not valid JSON.";
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled error on {Method} {Path}")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string method, string path);
}
