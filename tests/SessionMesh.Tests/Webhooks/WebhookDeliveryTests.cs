using System.Net;
using System.Text.Json;
using SessionMesh.Tests.Infrastructure;
using static SessionMesh.Tests.Webhooks.WebhookServer;

namespace SessionMesh.Tests.Webhooks;

/// <summary>Deliveries to a real receiver: signed, in order, retried, resumed after a restart, independent of each other.</summary>
public sealed class WebhookDeliveryTests
{
    [Fact]
    public async Task Deliveries_are_signed_in_revision_order_with_a_stable_id_and_the_events_shape()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var server = await StartAsync();
        using var client = server.CreateClient();
        var (id, secret) = await CreateAsync(client, receiver.Url);

        foreach (var agent in new[] { "a1", "a2", "a3" })
        {
            await client.JoinAsync(agent);
        }
        var received = await receiver.WaitForAsync(r => r.Count >= 3, "three session.joined deliveries");

        Assert.Equal(["a1", "a2", "a3"], received.Select(d => d.Json.GetProperty("agent_id").GetString()));
        var revisions = received.Select(d => d.Revision).ToList();
        Assert.Equal(revisions.Order(), revisions);
        Assert.Equal(3, revisions.Distinct().Count());
        foreach (var delivery in received)
        {
            Assert.Equal("session.joined", delivery.Event);
            Assert.Equal(id, delivery.WebhookId);
            Assert.Equal($"{id}:{delivery.Revision}", delivery.DeliveryId);
            Assert.Equal("application/json", delivery.ContentType?.Split(';')[0]);
            Assert.StartsWith("v1=", delivery.Signature, StringComparison.Ordinal);
            Assert.True(SessionMeshWebhook.Verify(secret, delivery.Body, delivery.Timestamp, delivery.Signature), $"signature of {delivery.DeliveryId}");
            Assert.False(SessionMeshWebhook.Verify(secret + "x", delivery.Body, delivery.Timestamp, delivery.Signature));
            // The same check as shipped in Core (for .NET receivers using the SDK's contracts).
            Assert.True(SessionMesh.Mesh.WebhookSignature.Verify(secret, delivery.Signature, delivery.Timestamp, delivery.Body, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5)));
            Assert.False(SessionMesh.Mesh.WebhookSignature.Verify(secret, delivery.Signature, delivery.Timestamp, delivery.Body, DateTimeOffset.UtcNow.AddHours(1), TimeSpan.FromMinutes(5)));
            Assert.False(SessionMeshWebhook.Verify(secret, [.. delivery.Body, (byte)' '], delivery.Timestamp, delivery.Signature));
            Assert.Equal("default", delivery.Json.GetProperty("cluster").GetString());
            Assert.Equal("active", delivery.Json.GetProperty("data").GetProperty("status").GetString());
        }

        // The attempt is recorded once the receiver's answer is in: wait for the third row.
        var deliveries = await WaitForDeliveriesAsync(client, id, rows => rows.Count >= 3);
        Assert.Equal(revisions.AsEnumerable().Reverse(), deliveries.Select(d => d.GetProperty("revision").GetInt64()));
        foreach (var row in deliveries)
        {
            Assert.True(row.GetProperty("ok").GetBoolean());
            Assert.Equal(200, row.GetProperty("status_code").GetInt32());
            Assert.Equal(1, row.GetProperty("attempt").GetInt32());
            Assert.True(row.GetProperty("latency_ms").GetInt64() >= 0);
        }
        Assert.Equal(revisions[^1], (await client.GetReplyAsync($"{Api}/webhooks/{id}")).Json.GetProperty("delivered_through").GetInt64());
    }

    [Fact]
    public async Task A_receiver_answering_500_then_200_gets_the_event_again_under_the_same_delivery_id()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Respond = (_, number, _) => Task.FromResult(number == 1 ? 500 : 200);
        await using var server = await StartAsync();
        using var client = server.CreateClient();
        var (id, _) = await CreateAsync(client, receiver.Url);

        await client.JoinAsync("flaky");
        var received = await receiver.WaitForAsync(r => r.Count >= 2, "a retry");
        Assert.Equal(received[0].DeliveryId, received[1].DeliveryId);
        Assert.Equal(received[0].Body, received[1].Body);

        var rows = await WaitForDeliveriesAsync(client, id, rows => rows.Count >= 2);
        Assert.Equal([2, 1], rows.Select(r => r.GetProperty("attempt").GetInt32()));
        Assert.Equal([200, 500], rows.Select(r => r.GetProperty("status_code").GetInt32()));
        var webhook = (await client.GetReplyAsync($"{Api}/webhooks/{id}")).Json;
        Assert.Equal("active", webhook.GetProperty("state").GetString());
        Assert.Equal(0, webhook.GetProperty("failed_attempts").GetInt32());
    }

    [Fact]
    public async Task A_hanging_receiver_does_not_delay_another_webhook()
    {
        await using var hanging = await WebhookReceiver.StartAsync();
        var hung = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        hanging.Respond = (_, _, aborted) =>
        {
            hung.TrySetResult();
            return WebhookReceiver.HangAsync(aborted);
        };
        await using var healthy = await WebhookReceiver.StartAsync();
        // The attempt timeout is far longer than the test: the healthy webhook must be fed while the other one hangs.
        await using var server = await StartAsync(timeout: "00:10:00");
        using var client = server.CreateClient();
        var (hangingId, _) = await CreateAsync(client, hanging.Url);
        await CreateAsync(client, healthy.Url);

        await client.JoinAsync("first");
        await hung.Task.WaitAsync(TestTimeouts.Event, TestContext.Current.CancellationToken);
        await client.JoinAsync("second");
        await client.JoinAsync("third");

        var fed = await healthy.WaitForAsync(r => r.Count >= 3, "the healthy webhook's deliveries");
        Assert.Equal(["first", "second", "third"], fed.Select(d => d.Json.GetProperty("agent_id").GetString()));
        Assert.Empty(hanging.Received);
        Assert.Empty((await client.GetReplyAsync($"{Api}/webhooks/{hangingId}/deliveries")).Json.GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task An_attempt_that_hangs_times_out_and_is_retried()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Respond = (_, number, aborted) => number == 1 ? WebhookReceiver.HangAsync(aborted) : Task.FromResult(200);
        await using var server = await StartAsync(timeout: "00:00:00.500");
        using var client = server.CreateClient();
        var (id, _) = await CreateAsync(client, receiver.Url);

        await client.JoinAsync("slowpoke");
        var rows = await WaitForDeliveriesAsync(client, id, rows => rows.Any(r => r.GetProperty("ok").GetBoolean()));
        var first = rows.Single(r => r.GetProperty("attempt").GetInt32() == 1);
        Assert.False(first.TryGetProperty("status_code", out _));
        Assert.Equal("timed out after 0.5 s", first.GetProperty("error").GetString());
        Assert.Equal(2, rows.Single(r => r.GetProperty("ok").GetBoolean()).GetProperty("attempt").GetInt32());
    }

    [Fact]
    public async Task Retries_run_out_into_failing_with_an_event_and_enable_resumes_at_the_same_event()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var down = true;
        receiver.Respond = (_, _, _) => Task.FromResult(Volatile.Read(ref down) ? 503 : 200);
        await using var watcher = await WebhookReceiver.StartAsync();
        await using var server = await StartAsync(maxAttempts: 3);
        using var client = server.CreateClient();
        var (id, _) = await CreateAsync(client, receiver.Url);
        await CreateAsync(client, watcher.Url, """["webhook.failing"]""");

        await client.JoinAsync("doomed");
        var failing = (await watcher.WaitForAsync(r => r.Count >= 1, "the webhook.failing event"))[0];
        Assert.Equal("webhook.failing", failing.Event);
        Assert.Equal(id, failing.Json.GetProperty("data").GetProperty("webhook_id").GetString());
        Assert.False(failing.Json.GetProperty("data").TryGetProperty("secret", out _));

        Assert.Equal(3, receiver.Received.Count);
        var webhook = (await client.GetReplyAsync($"{Api}/webhooks/{id}")).Json;
        Assert.Equal("failing", webhook.GetProperty("state").GetString());
        Assert.Equal(3, webhook.GetProperty("failed_attempts").GetInt32());
        Assert.Equal("HTTP 503", webhook.GetProperty("last_error").GetString());
        Assert.Equal([3, 2, 1], (await client.GetReplyAsync($"{Api}/webhooks/{id}/deliveries")).Json.GetProperty("items").EnumerateArray().Select(r => r.GetProperty("attempt").GetInt32()));

        Volatile.Write(ref down, false);
        Assert.Equal("active", (await client.PostReplyAsync($"{Api}/webhooks/{id}/enable", "{}")).Expect(HttpStatusCode.OK).Json.GetProperty("state").GetString());
        var after = await receiver.WaitForAsync(r => r.Count >= 4, "the delivery after enabling");
        Assert.Equal(after[0].DeliveryId, after[3].DeliveryId);
        await WaitForDeliveriesAsync(client, id, rows => rows.Count >= 4 && rows[0].GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task A_restart_resumes_from_the_cursor_with_the_same_delivery_ids_and_no_revision_skipped()
    {
        using var temp = new TempDirectory();
        await using var receiver = await WebhookReceiver.StartAsync();
        // Two events are taken, the third refused, so the server stops with the third pending.
        receiver.Respond = (_, number, _) => Task.FromResult(number <= 2 ? 200 : 503);
        string id, rootKey, pendingId;
        await using (var server = await StartAsync(temp.Path))
        {
            rootKey = server.RootKey;
            using var client = server.CreateClient();
            (id, _) = await CreateAsync(client, receiver.Url);
            foreach (var agent in new[] { "r1", "r2", "r3", "r4", "r5" })
            {
                await client.JoinAsync(agent);
            }
            pendingId = (await receiver.WaitForAsync(r => r.Count >= 3, "the refused third delivery"))[2].DeliveryId;
        }
        var beforeRestart = receiver.Received.Count;
        receiver.Respond = (_, _, _) => Task.FromResult(200);

        await using var restarted = await StartAsync(temp.Path, rootKey);
        var all = await receiver.WaitForAsync(r => r.Any(d => d.Json.GetProperty("agent_id").GetString() == "r5"), "the last event after the restart");
        // A refused retry cut off by the stop may still land after it: compare distinct deliveries.
        var afterRestart = all.Skip(beforeRestart).DistinctBy(d => d.DeliveryId).ToList();
        Assert.Equal(pendingId, afterRestart[0].DeliveryId);
        Assert.Equal(["r3", "r4", "r5"], afterRestart.Select(d => d.Json.GetProperty("agent_id").GetString()));
        var taken = all.Take(2).Concat(afterRestart).Select(d => d.Revision).ToList();
        Assert.Equal(taken.Order(), taken);
        Assert.Equal(5, taken.Distinct().Count());
        Assert.Equal(["r1", "r2", "r3", "r4", "r5"], all.Select(d => d.Json.GetProperty("agent_id").GetString()).Distinct());
    }

    [Fact]
    public async Task Events_compacted_before_delivery_are_skipped_and_recorded_instead_of_waited_for()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var release = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // The first delivery is held until the events after it are compacted away.
        receiver.Respond = (_, number, _) =>
        {
            if (number > 1)
            {
                return Task.FromResult(200);
            }
            held.TrySetResult();
            return release.Task;
        };
        var settings = Settings(timeout: "00:10:00");
        settings["Mesh:EventRetention"] = "2";
        await using var server = await MeshTestServer.StartAsync(settings: settings);
        using var client = server.CreateClient();
        var (id, _) = await CreateAsync(client, receiver.Url);

        await client.JoinAsync("c1");
        await held.Task.WaitAsync(TestTimeouts.Event, TestContext.Current.CancellationToken);
        foreach (var agent in new[] { "c2", "c3", "c4", "c5", "c6" })
        {
            await client.JoinAsync(agent);
        }
        await server.ApplyRetentionAsync();
        release.SetResult(200);

        var received = await receiver.WaitForAsync(r => r.Any(d => d.Json.GetProperty("agent_id").GetString() == "c6"), "the events kept");
        Assert.Equal(["c1", "c5", "c6"], received.Select(d => d.Json.GetProperty("agent_id").GetString()));
        var rows = await WaitForDeliveriesAsync(client, id, rows => rows.Count >= 4);
        var skip = Assert.Single(rows, r => r.GetProperty("event_type").GetString() == "webhook.skipped");
        Assert.False(skip.GetProperty("ok").GetBoolean());
        Assert.Equal($"revisions {received[0].Revision + 1}..{received[1].Revision - 1} were compacted before they could be delivered; skipped", skip.GetProperty("error").GetString());
    }

    internal static async Task<List<JsonElement>> WaitForDeliveriesAsync(HttpClient client, string id, Func<List<JsonElement>, bool> condition)
    {
        using var timeout = new CancellationTokenSource(TestTimeouts.Event);
        while (true)
        {
            var rows = (await client.GetReplyAsync($"{Api}/webhooks/{id}/deliveries")).Expect(HttpStatusCode.OK).Json.GetProperty("items").EnumerateArray().ToList();
            if (condition(rows))
            {
                return rows;
            }
            Assert.False(timeout.IsCancellationRequested, $"Timed out waiting for deliveries: {string.Join(", ", rows)}");
            // A pause between reads: a tight loop on one key would spend its rate limit (429).
            await Task.Delay(TimeSpan.FromMilliseconds(20), TestContext.Current.CancellationToken);
        }
    }
}
