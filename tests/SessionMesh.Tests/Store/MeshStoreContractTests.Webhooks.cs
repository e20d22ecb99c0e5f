using SessionMesh.Model;
using SessionMesh.Store;

namespace SessionMesh.Tests.Store;

// Webhooks and their delivery attempts, held to the same semantics on every store.
public abstract partial class MeshStoreContractTests
{
    [Fact]
    public async Task Webhooks_round_trip_change_list_by_cluster_and_delete_with_their_deliveries()
    {
        var hook = Webhook("wh_a", "c1") with { Labels = new Dictionary<string, string> { ["team"] = "ocr" }, Specialization = "vision", Description = "d" };
        await WriteAsync(tx => tx.UpsertWebhookAsync(hook, Ct));
        await WriteAsync(tx => tx.UpsertWebhookAsync(Webhook("wh_b", "c2"), Ct));
        await WriteAsync(tx => tx.UpsertWebhookAsync(Webhook("wh_c", "c1"), Ct));

        var read = await Store.GetWebhookAsync("wh_a", Ct);
        Assert.NotNull(read);
        Assert.Equal(hook.Events, read.Events);
        Assert.Equal(hook.Labels, read.Labels);
        Assert.Equal(hook with { Events = read.Events, Labels = read.Labels }, read);
        Assert.Null(await Store.GetWebhookAsync("wh_missing", Ct));

        var failing = hook with { State = WebhookRecord.Failing, Cursor = 42, Attempts = 3, RetryingSince = Now.AddSeconds(5), LastError = "HTTP 503" };
        await WriteAsync(async tx =>
        {
            Assert.Equal("wh_a", (await tx.GetWebhookAsync("wh_a", Ct))?.WebhookId);
            await tx.UpsertWebhookAsync(failing, Ct);
        });
        var changed = await Store.GetWebhookAsync("wh_a", Ct);
        Assert.Equal((WebhookRecord.Failing, 42L, 3, Now.AddSeconds(5), "HTTP 503"), (changed!.State, changed.Cursor, changed.Attempts, changed.RetryingSince, changed.LastError));

        Assert.Equal(["wh_a", "wh_c"], (await Store.ListWebhooksAsync("c1", null, 10, Ct)).Select(w => w.WebhookId));
        Assert.Equal(["wh_c"], (await Store.ListWebhooksAsync("c1", "wh_a", 10, Ct)).Select(w => w.WebhookId));
        Assert.Equal(["wh_a", "wh_b"], (await Store.ListWebhooksAsync(null, null, 2, Ct)).Select(w => w.WebhookId));

        await WriteAsync(tx => tx.AppendWebhookDeliveryAsync(Delivery("wh_a", 7), 10, Ct));
        await WriteAsync(async tx => Assert.True(await tx.DeleteWebhookAsync("wh_a", Ct)));
        await WriteAsync(async tx => Assert.False(await tx.DeleteWebhookAsync("wh_a", Ct)));
        Assert.Null(await Store.GetWebhookAsync("wh_a", Ct));
        Assert.Empty(await Store.ListWebhookDeliveriesAsync("wh_a", null, 10, Ct));
    }

    [Fact]
    public async Task Webhook_deliveries_list_newest_first_and_keep_only_the_latest()
    {
        await WriteAsync(tx => tx.UpsertWebhookAsync(Webhook("wh_a", "c1"), Ct));
        await WriteAsync(tx => tx.UpsertWebhookAsync(Webhook("wh_b", "c1"), Ct));
        for (var revision = 1; revision <= 5; revision++)
        {
            var r = revision;
            await WriteAsync(tx => tx.AppendWebhookDeliveryAsync(Delivery("wh_a", r) with { StatusCode = r == 3 ? null : 200, Error = r == 3 ? "timed out" : null }, 3, Ct));
        }
        await WriteAsync(tx => tx.AppendWebhookDeliveryAsync(Delivery("wh_b", 9), 3, Ct));

        var rows = await Store.ListWebhookDeliveriesAsync("wh_a", null, 10, Ct);
        Assert.Equal([5L, 4L, 3L], rows.Select(d => d.Revision));
        Assert.True(rows[0].Id > rows[1].Id);
        var timedOut = rows[2];
        Assert.Equal(("wh_a", "session.joined", "wh_a:3", 1, (int?)null, "timed out", 12L, Now), (timedOut.WebhookId, timedOut.EventType, timedOut.DeliveryId, timedOut.Attempt, timedOut.StatusCode, timedOut.Error, timedOut.LatencyMs, timedOut.At));
        Assert.Equal([4L, 3L], (await Store.ListWebhookDeliveriesAsync("wh_a", rows[0].Id, 10, Ct)).Select(d => d.Revision));
        Assert.Equal([5L], (await Store.ListWebhookDeliveriesAsync("wh_a", null, 1, Ct)).Select(d => d.Revision));
        Assert.Equal([9L], (await Store.ListWebhookDeliveriesAsync("wh_b", null, 10, Ct)).Select(d => d.Revision));
    }

    private static WebhookRecord Webhook(string id, string cluster) => new(
        id, cluster, "https://hooks.example.com/in", ["session.*", "command.acked"], new Dictionary<string, string>(), null, null,
        "whsec_test", Now, "key_1", WebhookRecord.Active, 0, 0, null, null);

    private static WebhookDeliveryRecord Delivery(string webhookId, long revision) =>
        new(0, webhookId, revision, "session.joined", $"{webhookId}:{revision}", 1, 200, null, 12, Now);
}
