using System.Text.Json;
using Microsoft.Data.Sqlite;
using SessionMesh.Contracts;
using SessionMesh.Model;
using static SessionMesh.Store.Sql.WebhookSql;

namespace SessionMesh.Store.Sqlite;

public sealed partial class SqliteMeshStore
{
    /// <inheritdoc />
    public Task<WebhookRecord?> GetWebhookAsync(string webhookId, CancellationToken cancellationToken) =>
        ReadAsync(db => SelectWebhookAsync(db, webhookId, cancellationToken), cancellationToken);

    /// <inheritdoc />
    public async Task<IReadOnlyList<WebhookRecord>> ListWebhooksAsync(string? cluster, string? afterWebhookId, int limit, CancellationToken cancellationToken) =>
        await ReadAsync(async db =>
        {
            await using var command = db.Command(cluster is null ? SelectWebhooksPage : SelectClusterWebhooksPage)
                .Bind("@cluster", cluster).Bind("@after", afterWebhookId ?? "").Bind("@limit", Math.Max(0, limit));
            return await command.ListAsync(ReadWebhook, cancellationToken);
        }, cancellationToken);

    /// <inheritdoc />
    public async Task<IReadOnlyList<WebhookDeliveryRecord>> ListWebhookDeliveriesAsync(string webhookId, long? beforeId, int limit, CancellationToken cancellationToken) =>
        await ReadAsync(async db =>
        {
            await using var command = db.Command(SelectWebhookDeliveriesPage)
                .Bind("@webhook_id", webhookId).Bind("@before", beforeId ?? long.MaxValue).Bind("@limit", Math.Max(0, limit));
            return await command.ListAsync(ReadWebhookDelivery, cancellationToken);
        }, cancellationToken);

    internal static async Task<WebhookRecord?> SelectWebhookAsync(SqliteDb db, string webhookId, CancellationToken cancellationToken)
    {
        await using var command = db.Command(SelectWebhookById).Bind("@webhook_id", webhookId);
        return await command.FirstOrDefaultAsync(ReadWebhook, cancellationToken);
    }

    internal static async Task UpsertWebhookAsync(SqliteDb db, WebhookRecord webhook, CancellationToken cancellationToken)
    {
        await using var command = db.Command(UpsertWebhookSql)
            .Bind("@webhook_id", webhook.WebhookId).Bind("@cluster", webhook.Cluster).Bind("@url", webhook.Url)
            .Bind("@events", JsonSerializer.Serialize(webhook.Events.ToList(), MeshJsonContext.Default.ListString))
            .Bind("@labels", JsonSerializer.Serialize(webhook.Labels.ToDictionary(), MeshJsonContext.Default.DictionaryStringString))
            .Bind("@specialization", webhook.Specialization).Bind("@description", webhook.Description).Bind("@secret", webhook.Secret)
            .Bind("@created_at", webhook.CreatedAt).Bind("@created_by", webhook.CreatedBy).Bind("@state", webhook.State)
            .Bind("@cursor", webhook.Cursor).Bind("@attempts", (long)webhook.Attempts).Bind("@retrying_since", webhook.RetryingSince)
            .Bind("@last_error", webhook.LastError);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    internal static async Task<bool> DeleteWebhookAsync(SqliteDb db, string webhookId, CancellationToken cancellationToken)
    {
        await using (var deliveries = db.Command(DeleteWebhookDeliveriesSql).Bind("@webhook_id", webhookId))
        {
            await deliveries.ExecuteNonQueryAsync(cancellationToken);
        }
        await using var command = db.Command(DeleteWebhookSql).Bind("@webhook_id", webhookId);
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    internal static async Task InsertWebhookDeliveryAsync(SqliteDb db, WebhookDeliveryRecord delivery, int keep, CancellationToken cancellationToken)
    {
        await using (var insert = db.Command(InsertWebhookDeliverySql)
            .Bind("@webhook_id", delivery.WebhookId).Bind("@revision", delivery.Revision).Bind("@event_type", delivery.EventType)
            .Bind("@delivery_id", delivery.DeliveryId).Bind("@attempt", (long)delivery.Attempt).Bind("@status_code", (long?)delivery.StatusCode)
            .Bind("@error", delivery.Error).Bind("@latency_ms", delivery.LatencyMs).Bind("@at", delivery.At))
        {
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }
        await using var trim = db.Command(TrimWebhookDeliveriesSql).Bind("@webhook_id", delivery.WebhookId).Bind("@keep", (long)Math.Max(1, keep));
        await trim.ExecuteNonQueryAsync(cancellationToken);
    }

    private static WebhookRecord ReadWebhook(SqliteDataReader r) => new(
        WebhookId: r.GetString(0),
        Cluster: r.GetString(1),
        Url: r.GetString(2),
        Events: JsonSerializer.Deserialize(r.GetString(3), MeshJsonContext.Default.ListString) ?? [],
        Labels: JsonSerializer.Deserialize(r.GetString(4), MeshJsonContext.Default.DictionaryStringString) ?? [],
        Specialization: r.IsDBNull(5) ? null : r.GetString(5),
        Description: r.IsDBNull(6) ? null : r.GetString(6),
        Secret: r.GetString(7),
        CreatedAt: DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(8)),
        CreatedBy: r.IsDBNull(9) ? null : r.GetString(9),
        State: r.GetString(10),
        Cursor: r.GetInt64(11),
        Attempts: r.GetInt32(12),
        RetryingSince: r.IsDBNull(13) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(13)),
        LastError: r.IsDBNull(14) ? null : r.GetString(14));

    private static WebhookDeliveryRecord ReadWebhookDelivery(SqliteDataReader r) => new(
        Id: r.GetInt64(0),
        WebhookId: r.GetString(1),
        Revision: r.GetInt64(2),
        EventType: r.GetString(3),
        DeliveryId: r.GetString(4),
        Attempt: r.GetInt32(5),
        StatusCode: r.IsDBNull(6) ? null : r.GetInt32(6),
        Error: r.IsDBNull(7) ? null : r.GetString(7),
        LatencyMs: r.GetInt64(8),
        At: DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(9)));
}
