using System.Buffers;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using SessionMesh.Mesh;

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
        // One waiter for the life of the response: a quiet spell re-arms its timer, and allocates nothing.
        using var waiter = new StreamWaiter(time);
        await using var enumerator = frames.GetAsyncEnumerator(cancellationToken);
        var next = new ValueTask<bool>(false);
        var pending = false;
        try
        {
            body.Write(Connected);
            await body.FlushAsync(cancellationToken);
            while (true)
            {
#pragma warning disable CA2012 // Kept to be awaited once it completes: the waiter takes its one continuation meanwhile.
                next = enumerator.MoveNextAsync();
#pragma warning restore CA2012
                pending = true;
                waiter.WakeOn(next);
                while (!next.IsCompleted)
                {
                    if (!await waiter.WaitAsync(keepAlive))
                    {
                        body.Write(KeepAlive);
                        await body.FlushAsync(cancellationToken);
                    }
                }
                pending = false;
                if (!await next)
                {
                    return;
                }
                write(body, enumerator.Current);
                await body.FlushAsync(cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
            // The client went away or the server is stopping (the frames' own token): the response has started, so
            // there is nothing left to answer; the stream just ends.
        }
        finally
        {
            // The enumerator is disposed only once no MoveNextAsync is in flight (the request's abort ends it). The
            // one in flight has the waiter's continuation, so it is waited for through the waiter, then consumed.
            if (pending)
            {
                while (!next.IsCompleted)
                {
                    await waiter.WaitAsync(Timeout.InfiniteTimeSpan);
                }
                await ((Task)next.AsTask()).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }
}
