using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;
using SessionMesh.Server.Hosting;

namespace SessionMesh.Server.Sandbox;

/// <summary>
/// Sandbox mode only: injects the faults of <see cref="FaultInjector.Current"/> into API requests, so a
/// client can prove its retry, re-mint and reconnect paths. Sits after authentication and authorization
/// (a request without a valid key is refused as usual) and before the endpoints: an injected 5xx, 429 or
/// 401 is answered instead of handling the request, so the request is never carried out and retrying it
/// is always safe. Never touches <c>/healthz</c>, <c>/readyz</c>, <c>/metrics</c> or the sandbox endpoint itself.
/// </summary>
internal sealed partial class FaultInjectionMiddleware(RequestDelegate next, FaultInjector faults, ILogger<FaultInjectionMiddleware> logger)
{
    /// <summary>Response header naming the fault injected, so a user's logs can tell injected failures from real ones.</summary>
    public const string FaultHeader = "X-Sandbox-Fault";

    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (!SandboxEndpoints.IsFaultable(request.Path))
        {
            await next(context);
            return;
        }
        var current = faults.Current;
        if (current.Latency.Max > TimeSpan.Zero)
        {
            await DelayAtLeastAsync(faults.Delay(current.Latency), context.RequestAborted);
        }
        if (faults.Roll(current.ServerError))
        {
            await ServerErrorAsync(context);
            return;
        }
        if (faults.Roll(current.TooManyRequests))
        {
            LogFault(logger, 429, request.Method, request.Path);
            context.Response.Headers[FaultHeader] = "429";
            context.Response.Headers.RetryAfter = "1";
            await Problems.WriteAsync(context, 429, "rate_limited", "Too many requests", "Too many requests: a fault injected by the sandbox (429). The request was not carried out; retry after 1 s.");
            return;
        }
        if (faults.Roll(current.Unauthorized))
        {
            // The same answer as a refused key (see KeyAuthorization), so a client's re-mint path runs.
            LogFault(logger, 401, request.Method, request.Path);
            context.Response.Headers[FaultHeader] = "401";
            await Problems.WriteAsync(context, 401, "invalid_key", "Unauthorized", "The session key is not valid: a fault injected by the sandbox (401). The request was not carried out.");
            return;
        }
        if (!HttpMethods.IsGet(request.Method) || !request.Headers.Accept.ToString().Contains("text/event-stream", StringComparison.OrdinalIgnoreCase))
        {
            await next(context);
            return;
        }

        // An event stream: count the frames going out, and after each one maybe drop the connection.
        var original = context.Features.GetRequiredFeature<IHttpResponseBodyFeature>();
        var dropping = new StreamResponseBodyFeature(new StreamDropper(original.Stream, context, faults, logger), original);
        context.Features.Set<IHttpResponseBodyFeature>(dropping);
        try
        {
            await next(context);
            if (!context.RequestAborted.IsCancellationRequested)
            {
                await dropping.CompleteAsync();
            }
        }
        finally
        {
            context.Features.Set(original);
        }
    }

    /// <summary>Waits at least <paramref name="delay"/>: a timer may fire up to a clock tick early.</summary>
    private static async Task DelayAtLeastAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        var start = System.Diagnostics.Stopwatch.GetTimestamp();
        for (var remaining = delay; remaining > TimeSpan.Zero; remaining = delay - System.Diagnostics.Stopwatch.GetElapsedTime(start))
        {
            await Task.Delay(remaining < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : remaining, cancellationToken);
        }
    }

    private async Task ServerErrorAsync(HttpContext context)
    {
        // Three shapes, so a client meets each: 503 with Retry-After, 503 without, and 500.
        var (status, title, retryAfter) = faults.Pick(3) switch
        {
            0 => (503, "Service unavailable", true),
            1 => (503, "Service unavailable", false),
            _ => (500, "Internal server error", false),
        };
        LogFault(logger, status, context.Request.Method, context.Request.Path);
        context.Response.Headers[FaultHeader] = "5xx";
        if (retryAfter)
        {
            context.Response.Headers.RetryAfter = "1";
        }
        await Problems.WriteAsync(context, status, "sandbox_fault", title, $"A fault injected by the sandbox (5xx). The request was not carried out; retry it{(retryAfter ? " after 1 s" : "")}.");
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Sandbox fault: {Status} injected into {Method} {Path}")]
    private static partial void LogFault(ILogger logger, int status, string method, PathString path);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Sandbox fault: dropped the event stream of {Method} {Path}")]
    internal static partial void LogDropped(ILogger logger, string method, PathString path);
}
