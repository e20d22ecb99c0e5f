using SessionMesh.Model;

namespace SessionMesh.Store.Postgres;

internal sealed partial class PostgresWriteTransaction
{
    public Task<WebhookRecord?> GetWebhookAsync(string webhookId, CancellationToken cancellationToken) =>
        PostgresMeshStore.SelectWebhookAsync(Db, webhookId, cancellationToken);

    public Task UpsertWebhookAsync(WebhookRecord webhook, CancellationToken cancellationToken) =>
        WriteAsync(db => PostgresMeshStore.UpsertWebhookAsync(db, webhook, cancellationToken));

    public Task<bool> DeleteWebhookAsync(string webhookId, CancellationToken cancellationToken) =>
        WriteAsync(db => PostgresMeshStore.DeleteWebhookAsync(db, webhookId, cancellationToken));

    public Task AppendWebhookDeliveryAsync(WebhookDeliveryRecord delivery, int keep, CancellationToken cancellationToken) =>
        WriteAsync(db => PostgresMeshStore.InsertWebhookDeliveryAsync(db, delivery, keep, cancellationToken));
}
