using System.Net;
using SessionMesh.Tests.Infrastructure;
using static SessionMesh.Tests.Webhooks.WebhookServer;

namespace SessionMesh.Tests.Webhooks;

/// <summary>The webhook endpoints: the secret shown once, the allow-list, scopes, clusters, filters, the test delivery.</summary>
public sealed class WebhookApiTests
{
    [Fact]
    public async Task The_secret_is_shown_once_and_never_again()
    {
        await using var server = await StartAsync();
        using var client = server.CreateClient();
        var created = (await client.PostReplyAsync($"{Api}/webhooks",
            """{"url": "http://127.0.0.1:9/hook", "events": ["session.*", "command.acked"], "description": "orchestrator"}""")).Expect(HttpStatusCode.Created);
        var id = created.Json.GetProperty("webhook_id").GetString()!;
        var secret = created.Json.GetProperty("secret").GetString()!;
        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);
        Assert.Equal($"/api/session-mesh/webhooks/{id}", created.Headers["Location"]);
        Assert.Equal("active", created.Json.GetProperty("state").GetString());
        Assert.Equal(["session.*", "command.acked"], created.Json.GetProperty("events").EnumerateArray().Select(e => e.GetString()));

        var get = (await client.GetReplyAsync($"{Api}/webhooks/{id}")).Expect(HttpStatusCode.OK);
        var list = (await client.GetReplyAsync($"{Api}/webhooks")).Expect(HttpStatusCode.OK);
        var deleted = (await client.DeleteReplyAsync($"{Api}/webhooks/{id}")).Expect(HttpStatusCode.OK);
        foreach (var reply in new[] { get, list, deleted })
        {
            Assert.DoesNotContain(secret, reply.Body, StringComparison.Ordinal);
            Assert.DoesNotContain("\"secret\"", reply.Body, StringComparison.Ordinal);
        }
        Assert.Equal(id, list.Json.GetProperty("items")[0].GetProperty("webhook_id").GetString());
        (await client.GetReplyAsync($"{Api}/webhooks/{id}")).ExpectProblem(HttpStatusCode.NotFound, "webhook_not_found");
        (await client.DeleteReplyAsync($"{Api}/webhooks/{id}")).ExpectProblem(HttpStatusCode.NotFound, "webhook_not_found");
    }

    [Theory]
    [InlineData("""{"url": "http://example.org/hook", "events": ["*"]}""", "url", "example.org")]
    [InlineData("""{"url": "http://127.0.0.1.example.org/hook", "events": ["*"]}""", "url", "127.0.0.1.example.org")]
    [InlineData("""{"url": "ftp://127.0.0.1/hook", "events": ["*"]}""", "url", "http or https")]
    [InlineData("""{"url": "http://user:pw@127.0.0.1/hook", "events": ["*"]}""", "url", "credentials")]
    [InlineData("""{"url": "not a url", "events": ["*"]}""", "url", "absolute")]
    [InlineData("""{"events": ["*"]}""", "url", "required")]
    [InlineData("""{"url": "http://127.0.0.1/hook"}""", "events", "at least one")]
    [InlineData("""{"url": "http://127.0.0.1/hook", "events": ["session.*", "sessions.joined"]}""", "events[1]", "sessions.joined")]
    [InlineData("""{"url": "http://127.0.0.1/hook", "events": ["key.created"]}""", "events[0]", "never delivered")]
    [InlineData("""{"url": "http://127.0.0.1/hook", "events": ["*"], "label": ["team"]}""", "label[0]", "key=value")]
    [InlineData("""{"url": "http://127.0.0.1/hook", "events": ["*"], "specialization": "bad spec!"}""", "specialization", "specialization")]
    public async Task Bad_webhooks_are_refused_naming_the_field(string body, string field, string detail)
    {
        await using var server = await StartAsync();
        using var client = server.CreateClient();
        var reply = (await client.PostReplyAsync($"{Api}/webhooks", body)).ExpectProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.Equal(field, reply.Json.GetProperty("field").GetString());
        Assert.Contains(detail, reply.Json.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Hosts_match_the_allow_list_exactly_or_by_wildcard_and_loopback_only_in_sandbox()
    {
        await using var server = await MeshTestServer.StartAsync(settings: new Dictionary<string, string> { ["Mesh:Webhooks:AllowedHosts"] = "hooks.example.com, *.example.net" });
        using var client = server.CreateClient();
        async Task<Reply> Create(string url) => await client.PostReplyAsync($"{Api}/webhooks", $$"""{"url": "{{url}}", "events": ["*"]}""");
        (await Create("https://hooks.example.com/in")).Expect(HttpStatusCode.Created);
        (await Create("https://HOOKS.example.com./in")).Expect(HttpStatusCode.Created);
        (await Create("https://a.b.example.net/in")).Expect(HttpStatusCode.Created);
        Assert.Contains("'example.net'", (await Create("https://example.net/in")).ExpectProblem(HttpStatusCode.BadRequest, "validation_failed").Json.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("'evil-example.net'", (await Create("https://evil-example.net/in")).ExpectProblem(HttpStatusCode.BadRequest, "validation_failed").Json.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("'127.0.0.1'", (await Create("http://127.0.0.1:8080/in")).ExpectProblem(HttpStatusCode.BadRequest, "validation_failed").Json.GetProperty("detail").GetString(), StringComparison.Ordinal);

        await using var sandbox = await MeshTestServer.StartAsync(sandbox: true);
        using var sandboxClient = sandbox.CreateClient();
        (await sandboxClient.PostReplyAsync($"{Api}/webhooks", """{"url": "http://localhost:8080/in", "events": ["*"]}""")).Expect(HttpStatusCode.Created);
        (await sandboxClient.PostReplyAsync($"{Api}/webhooks", """{"url": "http://[::1]:8080/in", "events": ["*"]}""")).Expect(HttpStatusCode.Created);
        (await sandboxClient.PostReplyAsync($"{Api}/webhooks", """{"url": "http://example.org/in", "events": ["*"]}""")).ExpectProblem(HttpStatusCode.BadRequest, "validation_failed");
    }

    [Fact]
    public async Task The_webhooks_scope_is_needed_and_one_cluster_never_sees_another_clusters_webhooks_or_events()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var server = await StartAsync();
        using var admin = server.CreateClient();
        async Task<HttpClient> KeyAsync(string cluster, string scopes)
        {
            var key = (await admin.PostReplyAsync($"{Api}/keys", $$"""{"cluster": "{{cluster}}", "scopes": {{scopes}}}""")).Expect(HttpStatusCode.Created).Json.GetProperty("session_key").GetString()!;
            return server.CreateClient(key);
        }
        using var blue = await KeyAsync("blue", """["webhooks", "agent"]""");
        using var red = await KeyAsync("red", """["webhooks", "agent"]""");
        using var reader = await KeyAsync("blue", """["read", "keys"]""");

        (await reader.PostReplyAsync($"{Api}/webhooks", $$"""{"url": "{{receiver.Url}}", "events": ["*"]}""")).ExpectProblem(HttpStatusCode.Forbidden, "insufficient_scope");
        (await reader.GetReplyAsync($"{Api}/webhooks")).ExpectProblem(HttpStatusCode.Forbidden, "insufficient_scope");
        (await blue.PostReplyAsync($"{Api}/webhooks", $$"""{"url": "{{receiver.Url}}", "events": ["*"], "cluster": "red"}""")).ExpectProblem(HttpStatusCode.NotFound, "cluster_not_found");

        var (blueHook, _) = await CreateAsync(blue, receiver.Url, """["*"]""");
        Assert.Equal("blue", (await blue.GetReplyAsync($"{Api}/webhooks/{blueHook}")).Json.GetProperty("cluster").GetString());
        (await red.GetReplyAsync($"{Api}/webhooks/{blueHook}")).ExpectProblem(HttpStatusCode.NotFound, "webhook_not_found");
        (await red.DeleteReplyAsync($"{Api}/webhooks/{blueHook}")).ExpectProblem(HttpStatusCode.NotFound, "webhook_not_found");
        (await red.PostReplyAsync($"{Api}/webhooks/{blueHook}/test", "{}")).ExpectProblem(HttpStatusCode.NotFound, "webhook_not_found");
        (await red.GetReplyAsync($"{Api}/webhooks/{blueHook}/deliveries")).ExpectProblem(HttpStatusCode.NotFound, "webhook_not_found");
        Assert.Empty((await red.GetReplyAsync($"{Api}/webhooks")).Json.GetProperty("items").EnumerateArray());
        Assert.Single((await admin.GetReplyAsync($"{Api}/webhooks")).Json.GetProperty("items").EnumerateArray());

        await red.JoinAsync("red-agent");
        await blue.JoinAsync("blue-agent");
        var received = await receiver.WaitForAsync(r => r.Any(d => d.Json.GetProperty("agent_id").GetString() == "blue-agent"), "the blue join");
        Assert.All(received, d => Assert.Equal("blue", d.Json.GetProperty("cluster").GetString()));
        // Key events of the blue cluster (the keys minted above and after) are never delivered.
        await KeyAsync("blue", """["read"]""");
        await blue.JoinAsync("blue-2");
        received = await receiver.WaitForAsync(r => r.Any(d => d.Json.GetProperty("agent_id").GetString() == "blue-2"), "the second blue join");
        Assert.DoesNotContain(received, d => d.Event.StartsWith("key.", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Label_and_specialization_filters_pick_the_agents_the_events_are_about()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var server = await StartAsync();
        using var client = server.CreateClient();
        await CreateAsync(client, receiver.Url, """["session.joined"]""", """, "label": ["team=ocr"], "specialization": "vision" """);

        (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "wrong-team", "labels": {"team": "nlp"}, "specializations": ["vision"]}""")).Expect(HttpStatusCode.Created);
        (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "no-spec", "labels": {"team": "ocr"}}""")).Expect(HttpStatusCode.Created);
        (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "match", "labels": {"team": "ocr", "x": "y"}, "specializations": ["vision"]}""")).Expect(HttpStatusCode.Created);
        (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "match-2", "labels": {"team": "ocr"}, "specializations": ["vision", "audio"]}""")).Expect(HttpStatusCode.Created);

        var received = await receiver.WaitForAsync(r => r.Count >= 2, "the matching joins");
        Assert.Equal(["match", "match-2"], received.Select(d => d.Json.GetProperty("agent_id").GetString()));
    }

    [Fact]
    public async Task A_test_delivery_is_sent_now_signed_and_answered_with_its_outcome()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Respond = (_, number, _) => Task.FromResult(number == 1 ? 202 : 418);
        await using var server = await StartAsync();
        using var client = server.CreateClient();
        var (id, secret) = await CreateAsync(client, receiver.Url);

        var ok = (await client.PostReplyAsync($"{Api}/webhooks/{id}/test", "")).Expect(HttpStatusCode.OK).Json;
        Assert.True(ok.GetProperty("ok").GetBoolean());
        Assert.Equal(202, ok.GetProperty("status_code").GetInt32());
        Assert.Equal("webhook.test", ok.GetProperty("event_type").GetString());
        var delivery = Assert.Single(receiver.Received);
        Assert.Equal("webhook.test", delivery.Event);
        Assert.Equal("webhook.test", delivery.Json.GetProperty("type").GetString());
        Assert.Equal(0, delivery.Revision);
        Assert.Equal(ok.GetProperty("delivery_id").GetString(), delivery.DeliveryId);
        Assert.True(SessionMeshWebhook.Verify(secret, delivery.Body, delivery.Timestamp, delivery.Signature));

        var refused = (await client.PostReplyAsync($"{Api}/webhooks/{id}/test", "")).Expect(HttpStatusCode.OK).Json;
        Assert.False(refused.GetProperty("ok").GetBoolean());
        Assert.Equal(418, refused.GetProperty("status_code").GetInt32());
        var rows = (await client.GetReplyAsync($"{Api}/webhooks/{id}/deliveries?limit=1")).Expect(HttpStatusCode.OK).Json;
        Assert.Equal(418, rows.GetProperty("items")[0].GetProperty("status_code").GetInt32());
        Assert.Equal(refused.GetProperty("id").GetInt64(), rows.GetProperty("items")[0].GetProperty("id").GetInt64());
        Assert.True(refused.GetProperty("id").GetInt64() > ok.GetProperty("id").GetInt64());
        var next = rows.GetProperty("next_cursor").GetString();
        Assert.Equal(202, (await client.GetReplyAsync($"{Api}/webhooks/{id}/deliveries?limit=1&cursor={next}")).Json.GetProperty("items")[0].GetProperty("status_code").GetInt32());
        // The test delivery is not an event: the cursor did not move, nothing else was sent.
        Assert.Equal(2, receiver.Received.Count);

        var audit = (await client.GetReplyAsync($"{Api}/audit")).Json.GetProperty("items").EnumerateArray().Select(a => a.GetProperty("path").GetString()).ToList();
        Assert.Contains($"/api/session-mesh/webhooks/{id}/test", audit);
        Assert.Contains("/api/session-mesh/webhooks", audit);
    }
}
