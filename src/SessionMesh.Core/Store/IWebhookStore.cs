using SessionMesh.Model;

namespace SessionMesh.Store;

/// <summary>The reads of webhooks and their deliveries (part of <see cref="IMeshStore"/>).</summary>
public interface IWebhookStore
{
    /// <summary>A webhook by id, in any cluster; the caller checks the cluster.</summary>
    Task<WebhookRecord?> GetWebhookAsync(string webhookId, CancellationToken cancellationToken);

    /// <summary>Webhooks ordered by id, of one cluster or (null) all, after <paramref name="afterWebhookId"/>.</summary>
    Task<IReadOnlyList<WebhookRecord>> ListWebhooksAsync(string? cluster, string? afterWebhookId, int limit, CancellationToken cancellationToken);

    /// <summary>A webhook's delivery attempts newest first, before <paramref name="beforeId"/> when given.</summary>
    Task<IReadOnlyList<WebhookDeliveryRecord>> ListWebhookDeliveriesAsync(string webhookId, long? beforeId, int limit, CancellationToken cancellationToken);
}
