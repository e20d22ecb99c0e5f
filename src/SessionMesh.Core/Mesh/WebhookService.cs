using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using SessionMesh.Contracts;
using SessionMesh.Model;
using SessionMesh.Security;

namespace SessionMesh.Mesh;

/// <summary>
/// Webhooks: created, listed, tested, re-enabled and deleted within a cluster by keys with the <c>webhooks</c> scope (or
/// admin). The signing secret is generated here, shown once in the creation's answer, and kept in the store to sign;
/// no later answer carries it. Delivery itself is the <see cref="WebhookDispatcher"/>'s.
/// </summary>
public sealed class WebhookService(MeshRuntime mesh, WebhookHosts hosts, WebhookSender sender, IOptions<WebhookOptions> options)
{
    /// <summary>Creates a webhook that receives the cluster's matching events from now on (the cursor starts at the latest revision).</summary>
    public async Task<CreatedWebhookView> CreateAsync(MeshCaller caller, CreateWebhookRequest request, CancellationToken cancellationToken)
    {
        caller.Require(MeshScopes.Webhooks);
        var cluster = caller.ResolveCluster(request.Cluster);
        MeshAudit.InCluster(cluster);
        var url = hosts.Check(request.Url);
        var events = WebhookEvents.Validate(request.Events);
        var labels = LabelsOf(request.Label);
        var specialization = request.Specialization is null ? null : Validate.Specialization(request.Specialization);
        var description = Validate.Text(request.Description, "description", MeshLimits.MaxDescriptionLength);
        var now = mesh.Now();
        var secret = "whsec_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        var webhookId = "wh_" + now.ToUnixTimeMilliseconds().ToString("x12", System.Globalization.CultureInfo.InvariantCulture)
            + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

        await using var tx = await mesh.Store.BeginWriteAsync(cancellationToken);
        // The cursor is read inside the write: every event committed after this webhook exists is delivered to it.
        var cursor = await mesh.Store.GetLatestRevisionAsync(cancellationToken);
        var webhook = new WebhookRecord(webhookId, cluster, url.AbsoluteUri, events, labels, specialization, description, secret, now, caller.KeyId,
            WebhookRecord.Active, cursor, 0, null, null);
        await tx.UpsertWebhookAsync(webhook, cancellationToken);
        await mesh.CommitAsync(tx, 0, cancellationToken, WebhookDispatcher.SignalKey);
        var view = View(webhook);
        return new CreatedWebhookView
        {
            WebhookId = view.WebhookId, Cluster = view.Cluster, Url = view.Url, Events = view.Events, Label = view.Label,
            Specialization = view.Specialization, Description = view.Description, State = view.State, CreatedAt = view.CreatedAt,
            CreatedBy = view.CreatedBy, DeliveredThrough = view.DeliveredThrough, Secret = secret,
        };
    }

    /// <summary>The webhooks the caller may see: an admin without a cluster every cluster's, anyone else one cluster's.</summary>
    public async Task<Page<WebhookView>> ListAsync(MeshCaller caller, string? cluster, int? limit, string? cursor, CancellationToken cancellationToken)
    {
        caller.Require(MeshScopes.Webhooks);
        var size = Validate.Limit(limit);
        var resolved = caller.IsAdmin && string.IsNullOrEmpty(cluster) ? null : caller.ResolveCluster(cluster);
        var rows = await mesh.Store.ListWebhooksAsync(resolved, Cursor.Decode(cursor), size + 1, cancellationToken);
        var (page, next) = Cursor.Trim(rows, size, w => w.WebhookId);
        var views = page.Select(View).ToList();
        return PageBudget.Cut(views, next, kept => Cursor.Encode(views[kept - 1].WebhookId), MeshJsonContext.Default.WebhookView, mesh.Options.MaxPageBytes);
    }

    public async Task<WebhookView> GetAsync(MeshCaller caller, string webhookId, CancellationToken cancellationToken) =>
        View(await FindAsync(caller, webhookId, cancellationToken));

    /// <summary>Deletes a webhook and its delivery history; nothing more is sent to it.</summary>
    public async Task<WebhookView> DeleteAsync(MeshCaller caller, string webhookId, CancellationToken cancellationToken)
    {
        caller.Require(MeshScopes.Webhooks);
        await using var tx = await mesh.Store.BeginWriteAsync(cancellationToken);
        var webhook = Visible(caller, webhookId, await tx.GetWebhookAsync(webhookId, cancellationToken));
        MeshAudit.InCluster(webhook.Cluster);
        await tx.DeleteWebhookAsync(webhookId, cancellationToken);
        await mesh.CommitAsync(tx, 0, cancellationToken, WebhookDispatcher.SignalKey);
        return View(webhook);
    }

    /// <summary>
    /// Re-enables a <c>failing</c> webhook: its retry counters reset and delivery resumes at the event it gave up on (none
    /// is skipped). An active webhook is answered as it is.
    /// </summary>
    public async Task<WebhookView> EnableAsync(MeshCaller caller, string webhookId, CancellationToken cancellationToken)
    {
        caller.Require(MeshScopes.Webhooks);
        await using var tx = await mesh.Store.BeginWriteAsync(cancellationToken);
        var webhook = Visible(caller, webhookId, await tx.GetWebhookAsync(webhookId, cancellationToken));
        MeshAudit.InCluster(webhook.Cluster);
        webhook = webhook with { State = WebhookRecord.Active, Attempts = 0, RetryingSince = null };
        await tx.UpsertWebhookAsync(webhook, cancellationToken);
        await mesh.CommitAsync(tx, 0, cancellationToken, WebhookDispatcher.SignalKey);
        return View(webhook);
    }

    /// <summary>
    /// Sends a signed <c>webhook.test</c> delivery now (revision 0, not in the event log, not retried, the cursor left as
    /// it is) and answers with its outcome, which is also recorded among the deliveries.
    /// </summary>
    public async Task<WebhookDeliveryView> TestAsync(MeshCaller caller, string webhookId, CancellationToken cancellationToken)
    {
        var webhook = await FindAsync(caller, webhookId, cancellationToken);
        MeshAudit.InCluster(webhook.Cluster);
        var now = mesh.Now();
        var body = ThreadJson.Serialize(new EventView { Revision = 0, Type = WebhookEvents.TestType, Cluster = webhook.Cluster, At = now }, MeshJsonContext.Default.EventView).ToArray();
        var deliveryId = $"{webhook.WebhookId}:test:{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}";
        var outcome = await sender.SendAsync(webhook, WebhookEvents.TestType, deliveryId, body, cancellationToken);
        var delivery = new WebhookDeliveryRecord(0, webhook.WebhookId, 0, WebhookEvents.TestType, deliveryId, 1, outcome.StatusCode, outcome.Error, outcome.LatencyMs, mesh.Now());
        await using var tx = await mesh.Store.BeginWriteAsync(cancellationToken);
        if (await tx.GetWebhookAsync(webhookId, cancellationToken) is not null)
        {
            await tx.AppendWebhookDeliveryAsync(delivery, options.Value.DeliveriesKept, cancellationToken);
        }
        await mesh.CommitAsync(tx, 0, cancellationToken);
        // Read back for the id the store assigned (the dispatcher may have recorded an attempt since: matched by delivery id).
        var recorded = await mesh.Store.ListWebhookDeliveriesAsync(webhook.WebhookId, null, 10, cancellationToken);
        return DeliveryView(recorded.FirstOrDefault(d => d.DeliveryId == deliveryId) ?? delivery);
    }

    /// <summary>The webhook's recent delivery attempts, newest first.</summary>
    public async Task<Page<WebhookDeliveryView>> ListDeliveriesAsync(MeshCaller caller, string webhookId, int? limit, string? cursor, CancellationToken cancellationToken)
    {
        var webhook = await FindAsync(caller, webhookId, cancellationToken);
        var size = Validate.Limit(limit);
        var rows = await mesh.Store.ListWebhookDeliveriesAsync(webhook.WebhookId, Cursor.DecodeLong(cursor), size + 1, cancellationToken);
        var (page, next) = Cursor.Trim(rows, size, d => d.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var views = page.Select(DeliveryView).ToList();
        return PageBudget.Cut(views, next, kept => Cursor.Encode(views[kept - 1].Id), MeshJsonContext.Default.WebhookDeliveryView, mesh.Options.MaxPageBytes);
    }

    /// <summary>A webhook as shown: never its secret.</summary>
    public static WebhookView View(WebhookRecord w) => new()
    {
        WebhookId = w.WebhookId,
        Cluster = w.Cluster,
        Url = w.Url,
        Events = [.. w.Events],
        Label = w.Labels.Count == 0 ? null : w.Labels.Select(l => $"{l.Key}={l.Value}").ToList(),
        Specialization = w.Specialization,
        Description = w.Description,
        State = w.State,
        CreatedAt = w.CreatedAt,
        CreatedBy = w.CreatedBy,
        DeliveredThrough = w.Cursor,
        FailedAttempts = w.Attempts,
        RetryingSince = w.RetryingSince,
        LastError = w.LastError,
    };

    public static WebhookDeliveryView DeliveryView(WebhookDeliveryRecord d) => new()
    {
        Id = d.Id,
        Revision = d.Revision,
        EventType = d.EventType,
        DeliveryId = d.DeliveryId,
        Attempt = d.Attempt,
        Ok = d.Succeeded,
        StatusCode = d.StatusCode,
        Error = d.Error,
        LatencyMs = d.LatencyMs,
        At = d.At,
    };

    private async Task<WebhookRecord> FindAsync(MeshCaller caller, string webhookId, CancellationToken cancellationToken)
    {
        caller.Require(MeshScopes.Webhooks);
        return Visible(caller, webhookId, await mesh.Store.GetWebhookAsync(webhookId, cancellationToken));
    }

    /// <summary>Another cluster's webhook is answered as missing: its existence does not leak.</summary>
    private static WebhookRecord Visible(MeshCaller caller, string webhookId, WebhookRecord? webhook) =>
        webhook is not null && caller.CanSee(webhook.Cluster)
            ? webhook
            : throw MeshException.NotFound("webhook_not_found", $"No webhook '{webhookId}'.");

    private static Dictionary<string, string> LabelsOf(List<string>? selectors)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < (selectors?.Count ?? 0); i++)
        {
            var (key, value) = Validate.LabelSelector(selectors![i] ?? "", $"label[{i}]");
            labels[key] = value;
        }
        return Validate.Labels(labels, "label");
    }
}
