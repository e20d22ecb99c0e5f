using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace SessionMesh.Server.Hosting;

/// <summary>
/// Writes every problem as <c>application/problem+json</c>, whatever the request's <c>Accept</c> says. The framework's
/// default writer declines a request that accepts only <c>text/event-stream</c>, and a stream refused with 401 or 404
/// must still tell its client why (the <c>code</c>), as the API always has.
/// </summary>
internal sealed class MeshProblemDetailsWriter(IOptions<ProblemDetailsOptions> problemOptions, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> jsonOptions)
    : IProblemDetailsWriter
{
    // The API has always written problems with the strict encoder (' < > as \u0027 ...), not the framework's relaxed one.
    private readonly JsonSerializerOptions _serializerOptions = new(jsonOptions.Value.SerializerOptions) { Encoder = JavaScriptEncoder.Default };

    public bool CanWrite(ProblemDetailsContext context) => true;

    public ValueTask WriteAsync(ProblemDetailsContext context)
    {
        var http = context.HttpContext;
        context.ProblemDetails.Status ??= http.Response.StatusCode;
        problemOptions.Value.CustomizeProblemDetails?.Invoke(context);
        var typeInfo = _serializerOptions.GetTypeInfo(typeof(ProblemDetails));
        return new ValueTask(http.Response.WriteAsJsonAsync(context.ProblemDetails, typeInfo, Problems.ContentType, http.RequestAborted));
    }
}
