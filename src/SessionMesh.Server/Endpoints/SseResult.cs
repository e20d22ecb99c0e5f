using System.Buffers;
using System.Net.ServerSentEvents;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace SessionMesh.Server.Endpoints;

/// <summary>
/// A stream of server-sent events whose items are formatted by <paramref name="format"/> straight into the response
/// (see <see cref="SseFrames"/>): the headers of <c>TypedResults.ServerSentEvents</c>, without its string or
/// reflection-based serialisation.
/// </summary>
internal sealed class SseResult<T>(IAsyncEnumerable<SseItem<T>> items, Action<SseItem<T>, IBufferWriter<byte>> format) : IResult
{
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache,no-store";
        response.Headers.Pragma = "no-cache";
        response.Headers.ContentEncoding = "identity";
        response.Headers["X-Accel-Buffering"] = "no";
        httpContext.Features.GetRequiredFeature<IHttpResponseBodyFeature>().DisableBuffering();
        try
        {
            await SseFormatter.WriteAsync(items, response.Body, format, httpContext.RequestAborted);
        }
        catch (OperationCanceledException) when (httpContext.RequestAborted.IsCancellationRequested)
        {
            // The client went away: the stream is over.
        }
    }
}
