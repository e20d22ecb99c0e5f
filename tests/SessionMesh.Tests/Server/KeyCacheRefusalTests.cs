using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using SessionMesh.Model;
using SessionMesh.Security;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Server;

/// <summary>
/// Keys are authenticated from memory, and that memory learns of every change at once: a key revoked, rotated away or
/// expired is refused by the very next request on every endpoint, with nothing to wait for; a key written to the store
/// by another path is found.
/// </summary>
public sealed class KeyCacheRefusalTests
{
    private const string Api = "api/session-mesh";

    // Enough for every endpoint below; bound to agent "w", which the key joins as.
    private const string KeyBody = """{"scopes": ["read", "agent", "steer"], "agent_id": "w", "ttl": 60}""";

    private static async Task<(string Id, string Secret)> MintAsync(HttpClient root, string body)
    {
        var key = (await root.PostReplyAsync($"{Api}/keys", body)).Expect(HttpStatusCode.Created).Json;
        return (key.GetProperty("key_id").GetString()!, key.GetProperty("session_key").GetString()!);
    }

    /// <summary>Uses the key on every endpoint, so it is known (cached) before it changes.</summary>
    private static async Task UseEverywhereAsync(HttpClient client)
    {
        (await client.GetReplyAsync($"{Api}/alive")).Expect(HttpStatusCode.OK);
        (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "w", "ttl": 300}""")).Expect(HttpStatusCode.Created);
        (await client.GetReplyAsync($"{Api}/keys/self")).Expect(HttpStatusCode.OK);
        (await client.PostReplyAsync($"{Api}/steer", """{"agent_id": "w", "direction": "north"}""")).Expect(HttpStatusCode.OK);
    }

    private static async Task ExpectRefusedEverywhereAsync(HttpClient client, string code)
    {
        (await client.GetReplyAsync($"{Api}/alive")).ExpectProblem(HttpStatusCode.Unauthorized, code);
        (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "w", "ttl": 300}""")).ExpectProblem(HttpStatusCode.Unauthorized, code);
        (await client.GetReplyAsync($"{Api}/keys/self")).ExpectProblem(HttpStatusCode.Unauthorized, code);
        (await client.PostReplyAsync($"{Api}/steer", """{"agent_id": "w", "direction": "north"}""")).ExpectProblem(HttpStatusCode.Unauthorized, code);
    }

    [Theory]
    [InlineData("by the root key")]
    [InlineData("by itself")]
    public async Task A_revoked_key_is_refused_by_the_very_next_request_on_every_endpoint(string revoker)
    {
        await using var server = await MeshTestServer.StartAsync();
        using var root = server.CreateClient();
        var (keyId, secret) = await MintAsync(root, KeyBody);
        using var client = server.CreateClient(secret);
        await UseEverywhereAsync(client);

        (await (revoker == "by itself" ? client : root).DeleteReplyAsync($"{Api}/keys/{keyId}")).Expect(HttpStatusCode.OK);

        await ExpectRefusedEverywhereAsync(client, "key_revoked");
    }

    [Fact]
    public async Task A_rotated_away_key_is_refused_by_the_very_next_request_and_its_successor_is_accepted()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var root = server.CreateClient();
        var (_, secret) = await MintAsync(root, KeyBody);
        using var client = server.CreateClient(secret);
        await UseEverywhereAsync(client);

        var rotated = (await client.PostReplyAsync($"{Api}/keys", $$"""{"session_key": "{{secret}}"}""")).Expect(HttpStatusCode.Created).Json;

        await ExpectRefusedEverywhereAsync(client, "key_revoked");
        using var successor = server.CreateClient(rotated.GetProperty("session_key").GetString());
        var self = (await successor.GetReplyAsync($"{Api}/keys/self")).Expect(HttpStatusCode.OK).Json;
        Assert.Equal(rotated.GetProperty("key_id").GetString(), self.GetProperty("key_id").GetString());
        Assert.Equal("active", self.GetProperty("state").GetString());
    }

    [Fact]
    public async Task An_expired_key_is_refused_as_soon_as_the_clock_passes_its_expiry()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await MeshTestServer.StartAsync(time: time);
        using var root = server.CreateClient();
        var (_, secret) = await MintAsync(root, KeyBody);
        using var client = server.CreateClient(secret);
        await UseEverywhereAsync(client);
        time.Advance(TimeSpan.FromSeconds(59));
        (await client.GetReplyAsync($"{Api}/keys/self")).Expect(HttpStatusCode.OK);

        time.Advance(TimeSpan.FromSeconds(1));

        await ExpectRefusedEverywhereAsync(client, "key_expired");
    }

    [Fact]
    public async Task A_key_written_to_the_store_by_another_path_is_found_on_its_first_use()
    {
        await using var server = await MeshTestServer.StartAsync();
        var keyId = "key_00000000000000aa";
        var token = KeySecrets.NewToken(keyId);
        using var client = server.CreateClient(token);
        // Tried before it exists: refused, and not remembered as unknown.
        (await client.GetReplyAsync($"{Api}/alive")).ExpectProblem(HttpStatusCode.Unauthorized, "invalid_key");
        var now = DateTimeOffset.UtcNow;
        var key = new ApiKeyRecord(keyId, KeySecrets.Hash(token), "default", MeshScopes.Read, null, "restored", now, now.AddHours(1), null, null, null);

        await UpsertPastTheMeshAsync(server, key);

        var self = (await client.GetReplyAsync($"{Api}/keys/self")).Expect(HttpStatusCode.OK).Json;
        Assert.Equal(keyId, self.GetProperty("key_id").GetString());
        Assert.Equal("restored", self.GetProperty("name").GetString());
        (await client.GetReplyAsync($"{Api}/alive")).Expect(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_key_changed_by_another_server_is_refused_once_its_signal_invalidates_the_cache()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var root = server.CreateClient();
        var (keyId, secret) = await MintAsync(root, KeyBody);
        using var client = server.CreateClient(secret);
        (await client.GetReplyAsync($"{Api}/alive")).Expect(HttpStatusCode.OK);
        var stored = await server.Store.GetKeyAsync(keyId, TestContext.Current.CancellationToken);

        // What a replica sharing the store does: revoke in the store, then signal the key id to the other servers.
        await UpsertPastTheMeshAsync(server, stored! with { RevokedAt = DateTimeOffset.UtcNow });
        server.App.Services.GetRequiredService<KeyCache>().Invalidate(keyId);

        await ExpectRefusedEverywhereAsync(client, "key_revoked");
    }

    private static async Task UpsertPastTheMeshAsync(MeshTestServer server, ApiKeyRecord key)
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await using var tx = await server.Store.BeginWriteAsync(cancellationToken);
        await tx.UpsertKeyAsync(key, cancellationToken);
        await tx.CommitAsync(cancellationToken);
    }
}
