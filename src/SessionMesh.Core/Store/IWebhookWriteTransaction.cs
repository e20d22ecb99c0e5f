using SessionMesh.Model;

namespace SessionMesh.Store;

/// <summary>The writes of webhooks and their deliveries (part of <see cref="IMeshWriteTransaction"/>).</summary>
public interface IWebhookWriteTransaction
{
    /// <summary>A webhook by id, read inside the write.</summary>
    Task<WebhookRecord?> GetWebhookAsync(string webhookId, CancellationToken cancellationToken);

    /// <summary>Inserts or replaces a webhook (its configuration, state, cursor and retry counters).</summary>
    Task UpsertWebhookAsync(WebhookRecord webhook, CancellationToken cancellationToken);

    /// <summary>Deletes a webhook and its deliveries; false when it was not there.</summary>
    Task<bool> DeleteWebhookAsync(string webhookId, CancellationToken cancellationToken);

    /// <summary>
    /// Records a delivery attempt (its <see cref="WebhookDeliveryRecord.Id"/> is assigned), keeping only the newest
    /// <paramref name="keep"/> of the webhook's attempts.
    /// </summary>
    Task AppendWebhookDeliveryAsync(WebhookDeliveryRecord delivery, int keep, CancellationToken cancellationToken);
}
