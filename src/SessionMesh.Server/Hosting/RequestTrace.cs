using System.Diagnostics;
using Microsoft.AspNetCore.Http;

namespace SessionMesh.Server.Hosting;

/// <summary>
/// A request's W3C trace id (<c>00-trace-span-flags</c>), for a problem's <c>trace_id</c> and the log line of a 500.
/// It is the request's <see cref="Activity"/> when the hosting layer started one (a tracing listener, or its request
/// logs turned on); else it is made the first time it is asked for and kept for the request, continuing the caller's
/// trace when the request carries a valid <c>traceparent</c>. Only answers that need one pay for it.
/// </summary>
internal static class RequestTrace
{
    private static readonly object s_item = new();

    public static string IdOf(HttpContext http)
    {
        if (Activity.Current?.Id is { } running)
        {
            return running;
        }
        if (http.Items.TryGetValue(s_item, out var kept) && kept is string id)
        {
            return id;
        }
        var headers = http.Request.Headers;
        var made = ActivityContext.TryParse(headers.TraceParent, headers.TraceState, out var caller)
            ? Format(caller.TraceId, caller.TraceFlags)
            : Format(ActivityTraceId.CreateRandom(), ActivityTraceFlags.None);
        http.Items[s_item] = made;
        return made;
    }

    private static string Format(ActivityTraceId trace, ActivityTraceFlags flags) =>
        $"00-{trace.ToHexString()}-{ActivitySpanId.CreateRandom().ToHexString()}-{(byte)flags:x2}";
}
