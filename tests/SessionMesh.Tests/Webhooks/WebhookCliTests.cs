using System.Text.Json;
using SessionMesh.Tests.Cli;

namespace SessionMesh.Tests.Webhooks;

/// <summary><c>session-mesh webhooks ...</c> against a real server and a real receiver.</summary>
public sealed class WebhookCliTests
{
    [Fact]
    public async Task Create_list_test_deliveries_and_delete_through_the_cli()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var server = await WebhookServer.StartAsync();
        using var cli = new CliHarness().WithServer(server.BaseAddress, server.RootKey);

        using var created = JsonDocument.Parse((await cli.RunAsync("webhooks", "create", "--url", receiver.Url.ToString(), "--event", "session.*", "--event", "command.acked", "--label", "team=a")).Expect(0).Out);
        var id = created.RootElement.GetProperty("webhook_id").GetString()!;
        var secret = created.RootElement.GetProperty("secret").GetString()!;
        Assert.Equal(["team=a"], created.RootElement.GetProperty("label").EnumerateArray().Select(l => l.GetString()));

        var table = (await cli.RunAsync(["webhooks", "list"], terminal: true)).Expect(0).Out;
        Assert.Contains(id, table, StringComparison.Ordinal);
        Assert.Contains("session.*,command.acked", table, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, table, StringComparison.Ordinal);

        var tested = (await cli.RunAsync(["webhooks", "test", id], terminal: true)).Expect(0).Out;
        Assert.Contains("ok: HTTP 200", tested, StringComparison.Ordinal);
        Assert.True(SessionMeshWebhook.Verify(secret, receiver.Received.Single().Body, receiver.Received.Single().Timestamp, receiver.Received.Single().Signature));
        receiver.Respond = (_, _, _) => Task.FromResult(500);
        (await cli.RunAsync("webhooks", "test", id)).Expect(1);

        using var deliveries = JsonDocument.Parse((await cli.RunAsync("webhooks", "deliveries", id)).Expect(0).Out);
        Assert.Equal([500, 200], deliveries.RootElement.GetProperty("items").EnumerateArray().Select(d => d.GetProperty("status_code").GetInt32()));

        (await cli.RunAsync("webhooks", "create", "--url", "https://example.org/in", "--event", "*")).Expect(2);
        (await cli.RunAsync("webhooks", "delete", id)).Expect(0);
        (await cli.RunAsync("webhooks", "delete", id)).Expect(3);
        (await cli.RunAsync("webhooks")).Expect(2);
    }
}
