using System.Net;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Server;

public sealed class DurabilityTests
{
    private const string Api = "api/session-mesh";

    [Fact]
    public async Task Every_acknowledged_join_registration_key_and_revocation_survives_a_restart()
    {
        using var temp = new TempDirectory();
        var dataDir = temp.Path;
        string rootKey, sessionId, keySecret, revokedSecret;
        await using (var server = await MeshTestServer.StartAsync(dataDir))
        {
            rootKey = server.RootKey;
            using var client = server.CreateClient();
            sessionId = (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "durable", "ttl": 600, "labels": {"k": "v"}}""")).Expect(HttpStatusCode.Created).Json.GetProperty("session_id").GetString()!;
            (await client.PostReplyAsync($"{Api}/registry", """{"specialization": "ocr", "agent_id": "declared"}""")).Expect(HttpStatusCode.Created);
            keySecret = (await client.PostReplyAsync($"{Api}/keys", """{"scopes": ["read"]}""")).Expect(HttpStatusCode.Created).Json.GetProperty("session_key").GetString()!;
            var revoked = (await client.PostReplyAsync($"{Api}/keys", """{"scopes": ["read"]}""")).Json;
            revokedSecret = revoked.GetProperty("session_key").GetString()!;
            (await client.DeleteReplyAsync($"{Api}/keys/{revoked.GetProperty("key_id").GetString()}")).Expect(HttpStatusCode.OK);
        }

        await using var restarted = await MeshTestServer.StartAsync(dataDir, rootKey: rootKey);
        using var again = restarted.CreateClient();
        var session = (await again.GetReplyAsync($"{Api}/sessions/{sessionId}")).Expect(HttpStatusCode.OK).Json;
        Assert.Equal("active", session.GetProperty("status").GetString());
        Assert.Equal("v", session.GetProperty("labels").GetProperty("k").GetString());
        Assert.Equal("declared", (await again.GetReplyAsync($"{Api}/registry?specialization=ocr")).Json.GetProperty("items")[0].GetProperty("agent_id").GetString());
        using var keyClient = restarted.CreateClient(keySecret);
        (await keyClient.GetReplyAsync($"{Api}/alive")).Expect(HttpStatusCode.OK);
        using var revokedClient = restarted.CreateClient(revokedSecret);
        (await revokedClient.GetReplyAsync($"{Api}/alive")).ExpectProblem(HttpStatusCode.Unauthorized, "key_revoked");
    }
}
