using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using SessionMesh.Mesh;
using SessionMesh.Security;
using SessionMesh.Server.Auth;

namespace SessionMesh.Server.Hosting;

/// <summary>
/// Records which key made each mutating API call, when, and with what outcome. A call whose write commits gets its
/// entry in that same transaction (<see cref="MeshAudit"/>); a call that commits nothing — refused, failed — is
/// recorded after its answer, off the request path. Heartbeats are left out: they renew a lease, change no decision,
/// and would drown the log.
/// </summary>
internal sealed class AuditMiddleware(RequestDelegate next, AuditWriter writer, TimeProvider time)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var draft = Open(context);
        MeshAudit.Current = draft;
        try
        {
            await next(context);
        }
        catch (Exception exception)
        {
            // The exception handler further out writes the answer; record the outcome it will give.
            var (status, code) = MeshExceptionHandler.OutcomeOf(context, exception);
            await RecordAsync(draft, status, code);
            throw;
        }
        finally
        {
            MeshAudit.Current = null;
        }
        await RecordAsync(draft, context.Response.StatusCode, context.Items[Problems.CodeItem] as string);
    }

    /// <summary>The draft of an audited call, with the success status its endpoint declares; null for calls not audited.</summary>
    private AuditDraft? Open(HttpContext context)
    {
        var request = context.Request;
        if (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method)
            || !request.Path.StartsWithSegments(ServerHost.ApiPrefix)
            || request.Path.Value!.EndsWith("/heartbeat", StringComparison.Ordinal)
            || context.User.Identity is not MeshIdentity identity)
        {
            return null;
        }
        // Filed under the caller's cluster until the service that writes names the cluster it touched (MeshAudit.InCluster):
        // a ?cluster= that a body endpoint ignores must not decide it.
        var caller = identity.Caller;
        var declared = context.GetEndpoint()?.Metadata.GetOrderedMetadata<IProducesResponseTypeMetadata>()
            .Select(m => m.StatusCode).Where(s => s is >= 200 and < 300).ToHashSet() ?? [];
        var success = declared.Contains(201) && !declared.Contains(200) ? 201 : 200;
        return new AuditDraft(caller.KeyId, caller.Cluster, request.Method, KeySecrets.Redact(request.Path.Value!), time.GetUtcNow(), success);
    }

    private async Task RecordAsync(AuditDraft? draft, int status, string? code)
    {
        if (draft is null || draft.Written)
        {
            return;
        }
        await writer.EnqueueAsync(draft.ToRecord() with { Status = status, Code = code }, CancellationToken.None);
    }
}
