using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SessionMesh.Contracts;
using SessionMesh.Model;

namespace SessionMesh.Mesh;

/// <summary>
/// Delivers the durable event log to webhooks: one loop per active webhook, each reading its cluster's events above its
/// own cursor (persisted in the store) in revision order, so a restart resumes where it stopped and a slow or dead
/// receiver delays nobody else. The cursor moves past an event only once the receiver answered 2xx (or the event did
/// not match); a failed attempt is retried with exponential backoff and jitter, its count and start persisted, until
/// <see cref="WebhookOptions.MaxAttempts"/> or <see cref="WebhookOptions.RetryFor"/> runs out: then the webhook turns
/// <c>failing</c> and a <c>webhook.failing</c> event says so. Loops wake on new events of their cluster (in-process
/// signals), with <see cref="WebhookOptions.PollInterval"/> as backstop. Only the lease leader delivers, so replicas
/// sharing a store never both send; a change of leader may repeat an attempt (at least once, de-duplicated by the
/// delivery id).
/// </summary>
public sealed class WebhookDispatcher(MeshRuntime mesh, ILeaseLeader leader, WebhookSender sender, IOptions<WebhookOptions> options)
{
    /// <summary>Raised when a webhook is created, enabled or deleted, so the dispatcher looks at once.</summary>
    public const string SignalKey = "webhooks";

    private const int PageSize = 100;
    private readonly Dictionary<string, Task> _loops = [];
    private volatile bool _leading;

    private WebhookOptions Options => options.Value;

    /// <summary>Runs until <paramref name="stoppingToken"/> fires: keeps one delivery loop running per active webhook while this server leads.</summary>
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        CancellationTokenSource? term = null;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var wake = mesh.Signals.Next(SignalKey);
                try
                {
                    _leading = await leader.TryLeadAsync(stoppingToken);
                    if (_leading)
                    {
                        term ??= CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                        await StartLoopsAsync(term.Token, stoppingToken);
                    }
                    else if (term is not null)
                    {
                        // Another replica leads now: it delivers from the cursors in the store.
                        await term.CancelAsync();
                        await Task.WhenAll(_loops.Values);
                        _loops.Clear();
                        term.Dispose();
                        term = null;
                    }
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    break;
                }
                catch (Exception ex)
                {
                    MeshLog.WebhookDispatchFailed(mesh.Logger, ex);
                }
                await mesh.WaitAsync(wake, Options.PollInterval, stoppingToken);
            }
        }
        finally
        {
            if (term is not null)
            {
                await term.CancelAsync();
            }
            await Task.WhenAll(_loops.Values);
            term?.Dispose();
        }
    }

    private async Task StartLoopsAsync(CancellationToken loopToken, CancellationToken stoppingToken)
    {
        foreach (var id in _loops.Where(l => l.Value.IsCompleted).Select(l => l.Key).ToList())
        {
            _loops.Remove(id);
        }
        string? after = null;
        while (true)
        {
            var page = await mesh.Store.ListWebhooksAsync(null, after, PageSize, stoppingToken);
            foreach (var webhook in page.Where(w => w.State == WebhookRecord.Active && !_loops.ContainsKey(w.WebhookId)))
            {
                _loops[webhook.WebhookId] = Task.Run(() => LoopAsync(webhook.WebhookId, webhook.Cluster, loopToken), CancellationToken.None);
            }
            if (page.Count < PageSize)
            {
                return;
            }
            after = page[^1].WebhookId;
        }
    }

    /// <summary>One webhook's deliveries, until it is deleted or failing, or this server stops leading.</summary>
    private async Task LoopAsync(string webhookId, string cluster, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            var signal = mesh.Signals.Next(SignalKeys.RevisionOf(cluster));
            try
            {
                var webhook = await mesh.Store.GetWebhookAsync(webhookId, cancellationToken);
                if (webhook is null || webhook.State != WebhookRecord.Active)
                {
                    return;
                }
                switch (await DeliverPendingAsync(webhook, cancellationToken))
                {
                    case Progress.Stopped:
                        return;
                    case Progress.More:
                        continue;
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                MeshLog.WebhookLoopFailed(mesh.Logger, webhookId, ex);
            }
            await mesh.WaitAsync(signal, Options.PollInterval, cancellationToken);
        }
    }

    private enum Progress { Idle, More, Stopped }

    /// <summary>Delivers the webhook's events above its cursor, one page of them.</summary>
    private async Task<Progress> DeliverPendingAsync(WebhookRecord webhook, CancellationToken cancellationToken)
    {
        if (await SkipCompactedAsync(webhook, cancellationToken) is not { } current)
        {
            return Progress.Stopped;
        }
        webhook = current;
        var events = await mesh.Store.ListEventsAsync(webhook.Cluster, webhook.Cursor, PageSize, cancellationToken);
        var passed = webhook.Cursor;
        foreach (var e in events)
        {
            if (!await WantsAsync(webhook, e, cancellationToken))
            {
                passed = e.Revision;
                continue;
            }
            if (await DeliverAsync(webhook, e, cancellationToken) is not { } delivered)
            {
                return Progress.Stopped;
            }
            webhook = delivered;
            passed = e.Revision;
        }
        if (passed > webhook.Cursor && await ChangeAsync(webhook.WebhookId, w => w with { Cursor = Math.Max(w.Cursor, passed) }, null, false, cancellationToken) is null)
        {
            return Progress.Stopped;
        }
        return events.Count == PageSize ? Progress.More : Progress.Idle;
    }

    /// <summary>
    /// When retention deleted events above the cursor before they were delivered, moves the cursor to the oldest one kept
    /// and records the skip among the deliveries (a receiver that must not miss events re-lists the state), rather than
    /// waiting for events that will never come.
    /// </summary>
    private async Task<WebhookRecord?> SkipCompactedAsync(WebhookRecord webhook, CancellationToken cancellationToken)
    {
        var oldest = await mesh.Store.GetOldestRevisionAsync(cancellationToken);
        var firstKept = oldest ?? await mesh.Store.GetLatestRevisionAsync(cancellationToken) + 1;
        if (firstKept <= webhook.Cursor + 1)
        {
            return webhook;
        }
        var through = firstKept - 1;
        var note = new WebhookDeliveryRecord(0, webhook.WebhookId, through, "webhook.skipped", $"{webhook.WebhookId}:{through}", 0, null,
            $"revisions {webhook.Cursor + 1}..{through} were compacted before they could be delivered; skipped", 0, mesh.Now());
        MeshLog.WebhookSkippedCompacted(mesh.Logger, webhook.WebhookId, webhook.Cursor + 1, through);
        return await ChangeAsync(webhook.WebhookId, w => w with { Cursor = Math.Max(w.Cursor, through), Attempts = 0, RetryingSince = null }, note, false, cancellationToken);
    }

    /// <summary>Whether the event is one the webhook asked for: its type matches, and the agent it is about passes the label and specialization filters.</summary>
    private async Task<bool> WantsAsync(WebhookRecord webhook, MeshEventRecord e, CancellationToken cancellationToken)
    {
        if (!WebhookEvents.Matches(webhook.Events, e.Type))
        {
            return false;
        }
        if (webhook.Labels.Count == 0 && webhook.Specialization is null)
        {
            return true;
        }
        if (e.AgentId is null)
        {
            return false;
        }
        var agent = await mesh.Store.GetAgentAsync(e.Cluster, e.AgentId, cancellationToken);
        var specializations = webhook.Specialization is null ? [] : await mesh.Store.GetSpecializationsAsync(e.Cluster, [e.AgentId], cancellationToken);
        return WebhookEvents.PassesAgentFilters(webhook, agent, specializations);
    }

    /// <summary>
    /// Delivers one event, retrying until the receiver answers 2xx (the cursor moves past it) or retries run out (the
    /// webhook turns failing). Null when the loop must stop: failing, deleted, disabled, or no longer leading.
    /// </summary>
    private async Task<WebhookRecord?> DeliverAsync(WebhookRecord webhook, MeshEventRecord e, CancellationToken cancellationToken)
    {
        var body = ThreadJson.Serialize(MeshViews.Event(e), MeshJsonContext.Default.EventView).ToArray();
        var deliveryId = $"{webhook.WebhookId}:{e.Revision.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
        while (_leading && !cancellationToken.IsCancellationRequested)
        {
            var attempt = webhook.Attempts + 1;
            var outcome = await sender.SendAsync(webhook, e.Type, deliveryId, body, cancellationToken);
            var now = mesh.Now();
            var delivery = new WebhookDeliveryRecord(0, webhook.WebhookId, e.Revision, e.Type, deliveryId, attempt, outcome.StatusCode, outcome.Error, outcome.LatencyMs, now);
            if (outcome.Succeeded)
            {
                return await ChangeAsync(webhook.WebhookId, w => w with { Cursor = Math.Max(w.Cursor, e.Revision), Attempts = 0, RetryingSince = null, LastError = null }, delivery, false, cancellationToken);
            }
            var since = webhook.RetryingSince ?? now;
            var exhausted = attempt >= Options.MaxAttempts || now - since >= Options.RetryFor;
            var error = outcome.StatusCode is { } status ? $"HTTP {status}" + (outcome.Error is null ? "" : $" ({outcome.Error})") : outcome.Error;
            var changed = await ChangeAsync(webhook.WebhookId,
                w => w with { Attempts = attempt, RetryingSince = since, LastError = error, State = exhausted ? WebhookRecord.Failing : w.State },
                delivery, exhausted, cancellationToken);
            if (changed is null || exhausted)
            {
                if (exhausted)
                {
                    MeshLog.WebhookFailing(mesh.Logger, webhook.WebhookId, attempt);
                }
                return null;
            }
            webhook = changed;
            try
            {
                await Task.Delay(Backoff(attempt), mesh.Time, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return null;
            }
        }
        return null;
    }

    /// <summary>The wait after the <paramref name="attempt"/>-th failure: doubling from the initial backoff up to the maximum, the upper half jittered.</summary>
    private TimeSpan Backoff(int attempt)
    {
        var ceiling = Math.Min(Options.MaxBackoff.TotalMilliseconds, Options.InitialBackoff.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 30)));
        return TimeSpan.FromMilliseconds(ceiling / 2 + Random.Shared.NextDouble() * ceiling / 2);
    }

    /// <summary>
    /// Applies <paramref name="change"/> to the webhook as stored, inside one write with the delivery row (and, when it
    /// turns failing, its event). Null when the webhook is gone or no longer active (deleted, or failing meanwhile).
    /// </summary>
    private async Task<WebhookRecord?> ChangeAsync(string webhookId, Func<WebhookRecord, WebhookRecord> change, WebhookDeliveryRecord? delivery, bool failing, CancellationToken cancellationToken)
    {
        await using var tx = await mesh.Store.BeginWriteAsync(cancellationToken);
        var stored = await tx.GetWebhookAsync(webhookId, cancellationToken);
        if (stored is null || stored.State != WebhookRecord.Active)
        {
            return null;
        }
        var changed = change(stored);
        await tx.UpsertWebhookAsync(changed, cancellationToken);
        if (delivery is not null)
        {
            await tx.AppendWebhookDeliveryAsync(delivery, Options.DeliveriesKept, cancellationToken);
        }
        long revision = 0;
        if (failing)
        {
            revision = await MeshRuntime.AppendEventAsync(tx, WebhookEvents.FailingType, changed.Cluster, mesh.Now(), null, null,
                WebhookService.View(changed), MeshJsonContext.Default.WebhookView, cancellationToken);
        }
        await mesh.CommitAsync(tx, revision, cancellationToken);
        return changed;
    }
}
