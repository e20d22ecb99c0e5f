using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Webhooks;

/// <summary>Test servers whose webhooks may call the loopback receivers, with small retry limits so nothing waits long.</summary>
internal static class WebhookServer
{
    public const string Api = "api/session-mesh";

    public static Dictionary<string, string> Settings(string timeout = "00:00:10", int maxAttempts = 30) => new()
    {
        ["Mesh:Webhooks:AllowedHosts"] = "127.0.0.1",
        ["Mesh:Webhooks:InitialBackoff"] = "00:00:00.050",
        ["Mesh:Webhooks:MaxBackoff"] = "00:00:00.200",
        ["Mesh:Webhooks:Timeout"] = timeout,
        ["Mesh:Webhooks:MaxAttempts"] = maxAttempts.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    public static Task<MeshTestServer> StartAsync(string? dataDir = null, string? rootKey = null, string timeout = "00:00:10", int maxAttempts = 30) =>
        MeshTestServer.StartAsync(dataDir, rootKey: rootKey, settings: Settings(timeout, maxAttempts));

    /// <summary>Creates a webhook; returns its id and secret.</summary>
    public static async Task<(string Id, string Secret)> CreateAsync(HttpClient client, Uri url, string events = """["session.*"]""", string extra = "")
    {
        var reply = (await client.PostReplyAsync($"{Api}/webhooks", $$"""{"url": "{{url}}", "events": {{events}}{{extra}}}""")).Expect(System.Net.HttpStatusCode.Created).Json;
        return (reply.GetProperty("webhook_id").GetString()!, reply.GetProperty("secret").GetString()!);
    }
}
