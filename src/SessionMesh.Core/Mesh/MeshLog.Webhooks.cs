using Microsoft.Extensions.Logging;

namespace SessionMesh.Mesh;

// Webhook delivery's log lines: ids and counts only, never a URL (it may carry a token) nor a secret.
internal static partial class MeshLog
{
    [LoggerMessage(Level = LogLevel.Error, Message = "Webhook dispatch failed; retrying on the next poll")]
    public static partial void WebhookDispatchFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivering to webhook {WebhookId} failed; retrying on the next poll")]
    public static partial void WebhookLoopFailed(ILogger logger, string webhookId, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook {WebhookId} is failing after {Attempts} attempts at one event; it sends nothing until enabled again")]
    public static partial void WebhookFailing(ILogger logger, string webhookId, int attempts);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook {WebhookId} skipped revisions {From}..{Through}: compacted before they could be delivered")]
    public static partial void WebhookSkippedCompacted(ILogger logger, string webhookId, long from, long through);
}
