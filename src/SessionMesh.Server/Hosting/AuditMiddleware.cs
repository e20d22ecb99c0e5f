using Microsoft.AspNetCore.Http;
using SessionMesh.Model;
using SessionMesh.Server.Auth;

namespace SessionMesh.Server.Hosting;

/// <summary>
/// Records which key made each mutating API call, when, and with what outcome. Heartbeats are left out:
/// they renew a lease, change no decision, and would drown the log.
/// </summary>
internal sealed class AuditMiddleware(RequestDelegate next, AuditWriter writer, TimeProvider time)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (Exception exception)
        {
            // The exception handler further out writes the answer; record the outcome it will give.
            var (status, code) = MeshExceptionHandler.OutcomeOf(context, exception);
            await RecordAsync(context, status, code);
            throw;
        }
        await RecordAsync(context, context.Response.StatusCode, context.Items[Problems.CodeItem] as string);
    }

    private async Task RecordAsync(HttpContext context, int status, string? code)
    {
        var request = context.Request;
        if (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method)
            || !request.Path.StartsWithSegments(ServerHost.ApiPrefix)
            || request.Path.Value!.EndsWith("/heartbeat", StringComparison.Ordinal)
            || context.User.Identity is not MeshIdentity identity)
        {
            return;
        }
        var caller = identity.Caller;
        var cluster = request.Query["cluster"].ToString() is { Length: > 0 } asked && caller.CanSee(asked) ? asked : caller.Cluster;
        var entry = new AuditRecord(0, time.GetUtcNow(), caller.KeyId, cluster, request.Method, request.Path.Value!, status, code);
        await writer.EnqueueAsync(entry, CancellationToken.None);
    }
}
