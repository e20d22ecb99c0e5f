using System.Buffers;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace SessionMesh.Server.Endpoints;

/// <summary>
/// An SSE response that is under way at once: status and headers go out with a first comment (<c>: connected</c>)
/// before the first frame is ready, and a <c>: keep-alive</c> comment follows every quiet spell of
/// <paramref name="keepAlive"/>, so a proxy that times out a silent response (or waits for the first byte) never cuts an
/// idle stream. Each frame is written by <paramref name="write"/> (see <see cref="SseFrames"/>) straight into the
/// response's pipe and flushed; comments are ignored by every SSE client.
/// </summary>
internal sealed class SseStreamResult<TFrame>(IAsyncEnumerable<TFrame> frames, Action<IBufferWriter<byte>, TFrame> write, TimeSpan keepAlive, TimeProvider time)
    : IResult
{
    private static ReadOnlySpan<byte> Connected => ": connected\n\n"u8;

    private static ReadOnlySpan<byte> KeepAlive => ": keep-alive\n\n"u8;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        var cancellationToken = httpContext.RequestAborted;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache,no-store";
        response.Headers.Pragma = "no-cache";
        response.Headers.ContentEncoding = "identity";
        response.Headers["X-Accel-Buffering"] = "no";
        httpContext.Features.GetRequiredFeature<IHttpResponseBodyFeature>().DisableBuffering();
        var body = response.BodyWriter;
        await using var enumerator = frames.GetAsyncEnumerator(cancellationToken);
        var next = Task.FromResult(false);
        try
        {
            body.Write(Connected);
            await body.FlushAsync(cancellationToken);
            next = enumerator.MoveNextAsync().AsTask();
            while (true)
            {
                if (!await QuietAsync(next, cancellationToken))
                {
                    body.Write(KeepAlive);
                    await body.FlushAsync(cancellationToken);
                    continue;
                }
                if (!await next)
                {
                    return;
                }
                write(body, enumerator.Current);
                await body.FlushAsync(cancellationToken);
                next = enumerator.MoveNextAsync().AsTask();
            }
        }
        catch (OperationCanceledException)
        {
            // The client went away or the server is stopping (the frames' own token): the response has started, so
            // there is nothing left to answer; the stream just ends.
        }
        finally
        {
            // The enumerator is disposed only once no MoveNextAsync is in flight (the request's abort ends it).
            await ((Task)next).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>True when <paramref name="next"/> completed; false when <c>keepAlive</c> passed first.</summary>
    private async Task<bool> QuietAsync(Task<bool> next, CancellationToken cancellationToken)
    {
        if (next.IsCompleted)
        {
            return true;
        }
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var delay = Task.Delay(keepAlive, time, timer.Token);
        var first = await Task.WhenAny(next, delay);
        await timer.CancelAsync();
        cancellationToken.ThrowIfCancellationRequested();
        return first == next;
    }
}
