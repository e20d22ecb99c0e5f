using SessionMesh.Model;

namespace SessionMesh.Store.Sqlite;

internal sealed partial class SqliteWriteTransaction
{
    public Task<WebhookRecord?> GetWebhookAsync(string webhookId, CancellationToken cancellationToken) =>
        SqliteMeshStore.SelectWebhookAsync(Db, webhookId, cancellationToken);

    public Task UpsertWebhookAsync(WebhookRecord webhook, CancellationToken cancellationToken) =>
        WriteAsync(db => SqliteMeshStore.UpsertWebhookAsync(db, webhook, cancellationToken));

    public Task<bool> DeleteWebhookAsync(string webhookId, CancellationToken cancellationToken) =>
        WriteAsync(db => SqliteMeshStore.DeleteWebhookAsync(db, webhookId, cancellationToken));

    public Task AppendWebhookDeliveryAsync(WebhookDeliveryRecord delivery, int keep, CancellationToken cancellationToken) =>
        WriteAsync(db => SqliteMeshStore.InsertWebhookDeliveryAsync(db, delivery, keep, cancellationToken));
}
