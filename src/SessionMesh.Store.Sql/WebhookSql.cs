namespace SessionMesh.Store.Sql;

/// <summary>Webhooks and their delivery attempts: the same statements on SQLite and PostgreSQL. Compiled into both stores.</summary>
internal static class WebhookSql
{
    internal const string WebhookColumns =
        "webhooks.webhook_id, webhooks.cluster, webhooks.url, webhooks.events, webhooks.labels, webhooks.specialization, " +
        "webhooks.description, webhooks.secret, webhooks.created_at, webhooks.created_by, webhooks.state, webhooks.cursor, " +
        "webhooks.attempts, webhooks.retrying_since, webhooks.last_error";

    internal const string WebhookDeliveryColumns =
        "webhook_deliveries.id, webhook_deliveries.webhook_id, webhook_deliveries.revision, webhook_deliveries.event_type, " +
        "webhook_deliveries.delivery_id, webhook_deliveries.attempt, webhook_deliveries.status_code, webhook_deliveries.error, " +
        "webhook_deliveries.latency_ms, webhook_deliveries.at";

    internal const string SelectWebhookById = $"SELECT {WebhookColumns} FROM webhooks WHERE webhooks.webhook_id = @webhook_id";

    internal const string SelectWebhooksPage = $"""
        SELECT {WebhookColumns} FROM webhooks
        WHERE webhooks.webhook_id > @after
        ORDER BY webhooks.webhook_id
        LIMIT @limit
        """;

    internal const string SelectClusterWebhooksPage = $"""
        SELECT {WebhookColumns} FROM webhooks
        WHERE webhooks.cluster = @cluster AND webhooks.webhook_id > @after
        ORDER BY webhooks.webhook_id
        LIMIT @limit
        """;

    internal const string SelectWebhookDeliveriesPage = $"""
        SELECT {WebhookDeliveryColumns} FROM webhook_deliveries
        WHERE webhook_deliveries.webhook_id = @webhook_id AND webhook_deliveries.id < @before
        ORDER BY webhook_deliveries.id DESC
        LIMIT @limit
        """;

    internal const string UpsertWebhookSql = """
        INSERT INTO webhooks (webhook_id, cluster, url, events, labels, specialization, description, secret, created_at,
                              created_by, state, cursor, attempts, retrying_since, last_error)
        VALUES (@webhook_id, @cluster, @url, @events, @labels, @specialization, @description, @secret, @created_at,
                @created_by, @state, @cursor, @attempts, @retrying_since, @last_error)
        ON CONFLICT (webhook_id) DO UPDATE
        SET cluster = excluded.cluster, url = excluded.url, events = excluded.events, labels = excluded.labels,
            specialization = excluded.specialization, description = excluded.description, secret = excluded.secret,
            created_at = excluded.created_at, created_by = excluded.created_by, state = excluded.state,
            cursor = excluded.cursor, attempts = excluded.attempts, retrying_since = excluded.retrying_since,
            last_error = excluded.last_error
        """;

    internal const string DeleteWebhookSql = "DELETE FROM webhooks WHERE webhook_id = @webhook_id";

    internal const string DeleteWebhookDeliveriesSql = "DELETE FROM webhook_deliveries WHERE webhook_id = @webhook_id";

    internal const string InsertWebhookDeliverySql = """
        INSERT INTO webhook_deliveries (webhook_id, revision, event_type, delivery_id, attempt, status_code, error, latency_ms, at)
        VALUES (@webhook_id, @revision, @event_type, @delivery_id, @attempt, @status_code, @error, @latency_ms, @at)
        """;

    // Keeps the newest @keep attempts of the webhook: everything at or below the id of the (@keep+1)-th newest goes.
    internal const string TrimWebhookDeliveriesSql = """
        DELETE FROM webhook_deliveries
        WHERE webhook_id = @webhook_id AND id <= (
            SELECT id FROM webhook_deliveries WHERE webhook_id = @webhook_id ORDER BY id DESC LIMIT 1 OFFSET @keep)
        """;
}
