using SessionMesh.Client.Http;
using SessionMesh.Contracts;

namespace SessionMesh.Client;

public sealed partial class SessionMeshClient
{
    /// <summary>
    /// <c>POST /webhooks</c>: creates a webhook; the answer's <see cref="CreatedWebhookView.Secret"/> is shown only here.
    /// Not retried after it reached the server: a retry could create a second webhook.
    /// </summary>
    public Task<CreatedWebhookView> CreateWebhookAsync(CreateWebhookRequest request, CancellationToken cancellationToken = default) =>
        _transport.SendAsync(
            HttpMethod.Post, "webhooks", request, MeshJsonContext.Default.CreateWebhookRequest, MeshJsonContext.Default.CreatedWebhookView, null, cancellationToken);

    /// <summary><c>GET /webhooks</c>: one page of webhooks (never their secrets).</summary>
    public Task<Page<WebhookView>> ListWebhooksAsync(int? limit = null, string? cursor = null, CancellationToken cancellationToken = default) =>
        GetAsync(new MeshQuery("webhooks").Add("limit", limit).Add("cursor", cursor).ToString(), MeshJsonContext.Default.PageWebhookView, cancellationToken);

    /// <summary><c>GET /webhooks</c>, every page.</summary>
    public IAsyncEnumerable<WebhookView> ListAllWebhooksAsync(CancellationToken cancellationToken = default) =>
        AllPagesAsync(cursor => ListWebhooksAsync(null, cursor, cancellationToken), cancellationToken);

    /// <summary><c>GET /webhooks/{webhook_id}</c>: one webhook, with where its deliveries stand.</summary>
    public Task<WebhookView> GetWebhookAsync(string webhookId, CancellationToken cancellationToken = default) =>
        GetAsync($"webhooks/{MeshQuery.Segment(webhookId)}", MeshJsonContext.Default.WebhookView, cancellationToken);

    /// <summary><c>DELETE /webhooks/{webhook_id}</c>: deletes the webhook and its delivery history.</summary>
    public Task<WebhookView> DeleteWebhookAsync(string webhookId, CancellationToken cancellationToken = default) =>
        SendNoBodyAsync(HttpMethod.Delete, $"webhooks/{MeshQuery.Segment(webhookId)}", MeshJsonContext.Default.WebhookView, cancellationToken);

    /// <summary><c>POST /webhooks/{webhook_id}/test</c>: sends a signed <c>webhook.test</c> delivery now; returns its outcome.</summary>
    public Task<WebhookDeliveryView> TestWebhookAsync(string webhookId, CancellationToken cancellationToken = default) =>
        SendNoBodyAsync(HttpMethod.Post, $"webhooks/{MeshQuery.Segment(webhookId)}/test", MeshJsonContext.Default.WebhookDeliveryView, cancellationToken);

    /// <summary><c>POST /webhooks/{webhook_id}/enable</c>: re-enables a failing webhook (delivery resumes where it gave up).</summary>
    public Task<WebhookView> EnableWebhookAsync(string webhookId, CancellationToken cancellationToken = default) =>
        SendNoBodyAsync(HttpMethod.Post, $"webhooks/{MeshQuery.Segment(webhookId)}/enable", MeshJsonContext.Default.WebhookView, cancellationToken);

    /// <summary><c>GET /webhooks/{webhook_id}/deliveries</c>: one page of recent delivery attempts, newest first.</summary>
    public Task<Page<WebhookDeliveryView>> ListWebhookDeliveriesAsync(string webhookId, int? limit = null, string? cursor = null, CancellationToken cancellationToken = default) =>
        GetAsync(new MeshQuery($"webhooks/{MeshQuery.Segment(webhookId)}/deliveries").Add("limit", limit).Add("cursor", cursor).ToString(),
            MeshJsonContext.Default.PageWebhookDeliveryView, cancellationToken);
}
