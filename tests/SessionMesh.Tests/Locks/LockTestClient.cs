using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using SessionMesh.Mesh;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Locks;

/// <summary>The lock calls the lock tests make, as raw JSON over HTTP.</summary>
internal static class LockTestClient
{
    public const string Api = "api/session-mesh";

    public static Task<Reply> AcquireAsync(this HttpClient client, string name, string sessionId, string extra = "") =>
        client.PostReplyAsync($"{Api}/locks", $$"""{"name": "{{name}}", "session_id": "{{sessionId}}"{{extra}}}""");

    /// <summary>Mints a key with <paramref name="scopes"/> (JSON array body), optionally bound to an agent or cluster.</summary>
    public static async Task<string> MintKeyAsync(this HttpClient admin, string scopes, string? agentId = null, string? cluster = null)
    {
        var body = $$"""{"scopes": {{scopes}}{{(agentId is null ? "" : $", \"agent_id\": \"{agentId}\"")}}{{(cluster is null ? "" : $", \"cluster\": \"{cluster}\"")}}}""";
        return (await admin.PostReplyAsync($"{Api}/keys", body)).Expect(HttpStatusCode.Created).Json.GetProperty("session_key").GetString()!;
    }

    /// <summary>The events of a type after revision 0, as their data.</summary>
    public static async Task<List<JsonElement>> EventsAsync(this HttpClient client, string type)
    {
        var page = (await client.GetReplyAsync($"{Api}/events?since=0&limit=1000")).Expect(HttpStatusCode.OK).Json;
        return page.GetProperty("items").EnumerateArray().Where(e => e.GetProperty("type").GetString() == type).Select(e => e.GetProperty("data").Clone()).ToList();
    }

    /// <summary>One lock sweep (TTLs, ended lock-delays), as the leader's tick runs it.</summary>
    public static Task<int> SweepLocksAsync(this MeshTestServer server) =>
        server.App.Services.GetRequiredService<LockService>().SweepAsync(TestContext.Current.CancellationToken);
}
