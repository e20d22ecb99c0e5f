using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Server;

/// <summary>
/// Key rules that must hold under concurrency and along chains of rotations: one successor per rotated key, a
/// revocation never outrun by a rotation, rotation allowed exactly where revocation is, and no chain outliving its minter.
/// </summary>
public sealed class KeyInvariantTests
{
    private const string Api = "api/session-mesh";

    private static async Task<(string Id, string Secret, JsonElement Key)> MintAsync(HttpClient client, string body)
    {
        var key = (await client.PostReplyAsync($"{Api}/keys", body)).Expect(HttpStatusCode.Created).Json;
        return (key.GetProperty("key_id").GetString()!, key.GetProperty("session_key").GetString()!, key);
    }

    private static Task<Reply> RotateAsync(HttpClient client, string secret, int? ttl = null) =>
        client.PostReplyAsync($"{Api}/keys", ttl is null
            ? $$"""{"session_key": "{{secret}}"}"""
            : $$"""{"session_key": "{{secret}}", "ttl": {{ttl}}}""");

    private static async Task<List<JsonElement>> ListKeysAsync(HttpClient root) =>
        (await root.GetReplyAsync($"{Api}/keys?limit=1000")).Expect(HttpStatusCode.OK).Json.GetProperty("items").EnumerateArray().ToList();

    private static string? RotatedFrom(JsonElement key) =>
        key.TryGetProperty("rotated_from", out var from) && from.ValueKind == JsonValueKind.String ? from.GetString() : null;

    private static string State(JsonElement key) => key.GetProperty("state").GetString()!;

    [Fact]
    public async Task Ten_concurrent_self_rotations_of_one_key_mint_exactly_one_successor()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var root = server.CreateClient();

        // A few rounds, each on a fresh key, so an interleaving that lets two through is likely to show.
        for (var round = 0; round < 3; round++)
        {
            var (oldId, oldSecret, _) = await MintAsync(root, """{"scopes": ["read"], "ttl": 3600}""");
            using var holder = server.CreateClient(oldSecret);

            var replies = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => RotateAsync(holder, oldSecret)));

            var created = replies.Where(r => r.Status == HttpStatusCode.Created).ToList();
            Assert.True(created.Count == 1, $"Round {round}: expected exactly one rotation to succeed, {created.Count} did: {string.Join(" | ", created.Select(r => r.Body))}");
            foreach (var refused in replies.Where(r => r.Status != HttpStatusCode.Created))
            {
                Assert.True((int)refused.Status is >= 400 and < 500, $"A losing rotation must be refused with a 4xx, got {(int)refused.Status}: {refused.Body}");
            }
            var keys = await ListKeysAsync(root);
            var successor = Assert.Single(keys, k => RotatedFrom(k) == oldId);
            Assert.Equal(created[0].Json.GetProperty("key_id").GetString(), successor.GetProperty("key_id").GetString());
            Assert.Equal("active", State(successor));
            Assert.Equal("revoked", State(keys.Single(k => k.GetProperty("key_id").GetString() == oldId)));
            using var next = server.CreateClient(created[0].Json.GetProperty("session_key").GetString());
            (await next.GetReplyAsync($"{Api}/keys/self")).Expect(HttpStatusCode.OK);
        }
    }

    [Fact]
    public async Task A_rotation_racing_a_revocation_never_leaves_a_working_successor_after_the_revocation()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var root = server.CreateClient();
        var rotationsWon = 0;

        for (var round = 0; round < 20; round++)
        {
            var (oldId, oldSecret, _) = await MintAsync(root, """{"scopes": ["read"], "ttl": 3600}""");
            using var holder = server.CreateClient(oldSecret);

            var rotating = RotateAsync(holder, oldSecret);
            var revoking = root.DeleteReplyAsync($"{Api}/keys/{oldId}");
            await Task.WhenAll(rotating, revoking);
            var rotation = await rotating;
            var revocation = (await revoking).Expect(HttpStatusCode.OK).Json;

            Assert.Equal("revoked", State(revocation));
            var chain = (await ListKeysAsync(root)).Where(k => k.GetProperty("key_id").GetString() == oldId || RotatedFrom(k) == oldId).ToList();
            var active = chain.Where(k => State(k) == "active").Select(k => k.GetProperty("key_id").GetString()).ToList();
            if (rotation.Status == HttpStatusCode.Created)
            {
                rotationsWon++;
                // Both answered success: that is sound only if the rotation committed first and the revocation found
                // the old key already revoked (by the rotation), so its revoked_at is not before the successor exists.
                var successorId = rotation.Json.GetProperty("key_id").GetString();
                var createdAt = rotation.Json.GetProperty("created_at").GetDateTimeOffset();
                var revokedAt = revocation.GetProperty("revoked_at").GetDateTimeOffset();
                Assert.True(revokedAt >= createdAt, $"Round {round}: the revocation committed at {revokedAt:O}, yet the rotation minted {successorId} after it, at {createdAt:O}.");
                Assert.Equal([successorId], active);
            }
            else
            {
                Assert.True((int)rotation.Status is >= 400 and < 500, $"Round {round}: a rotation losing to a revocation must be a 4xx, got {(int)rotation.Status}: {rotation.Body}");
                Assert.Empty(active);
                Assert.Single(chain);
            }
        }
        // Not an assertion on the race's winner: which side wins is up to the scheduler.
        TestContext.Current.TestOutputHelper?.WriteLine($"Rotation won {rotationsWon} of 20 races.");
    }

    [Fact]
    public async Task A_key_may_rotate_exactly_the_keys_it_may_revoke()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var root = server.CreateClient();
        // Longer-lived than the keys it manages, so only the rule of who may manage which key can refuse.
        var (_, keysA1, _) = await MintAsync(root, """{"scopes": ["agent", "keys"], "agent_id": "a1", "ttl": 7200}""");
        var (_, plainA1, _) = await MintAsync(root, """{"scopes": ["agent"], "agent_id": "a1"}""");
        var (otherAgentId, otherAgentSecret, _) = await MintAsync(root, """{"scopes": ["agent"], "agent_id": "a2"}""");
        var (widerId, widerSecret, _) = await MintAsync(root, """{"scopes": ["agent", "read"], "agent_id": "a1"}""");
        var (sameAgentId, sameAgentSecret, _) = await MintAsync(root, """{"scopes": ["agent"], "agent_id": "a1"}""");
        using var keysClient = server.CreateClient(keysA1);
        using var plainClient = server.CreateClient(plainA1);

        // A keys-scoped key bound to a1 manages neither way a key bound to a2.
        var rotateOther = (await RotateAsync(keysClient, otherAgentSecret)).ExpectProblem(HttpStatusCode.Forbidden, "insufficient_scope");
        Assert.Equal("session_key", rotateOther.Json.GetProperty("field").GetString());
        (await keysClient.DeleteReplyAsync($"{Api}/keys/{otherAgentId}")).ExpectProblem(HttpStatusCode.Forbidden, "insufficient_scope");
        // Nor a key of its own agent with a grant it lacks.
        (await RotateAsync(keysClient, widerSecret)).ExpectProblem(HttpStatusCode.Forbidden, "insufficient_scope");
        (await keysClient.DeleteReplyAsync($"{Api}/keys/{widerId}")).ExpectProblem(HttpStatusCode.Forbidden, "insufficient_scope");
        // A key without 'keys' manages only itself.
        (await RotateAsync(plainClient, widerSecret)).ExpectProblem(HttpStatusCode.Forbidden, "insufficient_scope");
        (await plainClient.DeleteReplyAsync($"{Api}/keys/{widerId}")).ExpectProblem(HttpStatusCode.Forbidden, "insufficient_scope");

        // The refused rotations left the keys working.
        using (var other = server.CreateClient(otherAgentSecret))
        {
            Assert.Equal("active", State((await other.GetReplyAsync($"{Api}/keys/self")).Expect(HttpStatusCode.OK).Json));
        }
        using (var wider = server.CreateClient(widerSecret))
        {
            Assert.Equal("active", State((await wider.GetReplyAsync($"{Api}/keys/self")).Expect(HttpStatusCode.OK).Json));
        }
        Assert.DoesNotContain(await ListKeysAsync(root), k => RotatedFrom(k) is { } from && (from == otherAgentId || from == widerId));

        // Where revocation is allowed, so is rotation: same agent, grants it holds.
        var rotated = (await RotateAsync(keysClient, sameAgentSecret)).Expect(HttpStatusCode.Created).Json;
        Assert.Equal(sameAgentId, rotated.GetProperty("rotated_from").GetString());
        Assert.Equal("a1", rotated.GetProperty("agent_id").GetString());
        (await keysClient.DeleteReplyAsync($"{Api}/keys/{rotated.GetProperty("key_id").GetString()}")).Expect(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Rotation_never_renews_a_key_past_the_lifetime_of_the_key_that_minted_it()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await MeshTestServer.StartAsync(time: time);
        using var root = server.CreateClient();
        var (_, k1Secret, k1) = await MintAsync(root, """{"scopes": ["keys", "read"], "ttl": 600}""");
        var limit = k1.GetProperty("expires_at").GetDateTimeOffset();
        using var k1Client = server.CreateClient(k1Secret);

        // K1 mints K2 late in its life: K2 (150 s) ends 50 s before K1.
        time.Advance(TimeSpan.FromSeconds(400));
        var (_, k2Secret, _) = await MintAsync(k1Client, """{"scopes": ["read"], "ttl": 150}""");
        using var k2Client = server.CreateClient(k2Secret);
        time.Advance(TimeSpan.FromSeconds(100));

        // Asking for more than K2's own original lifetime is refused whichever rule says so first.
        var tooLong = await RotateAsync(k2Client, k2Secret, ttl: 3600);
        Assert.True((int)tooLong.Status is 400 or 403, $"Expected a refusal, got {(int)tooLong.Status}: {tooLong.Body}");
        Assert.Equal("ttl", tooLong.Json.GetProperty("field").GetString());
        // Its original lifetime again (150 s) would end 50 s after K1: the chain's limit refuses it.
        (await RotateAsync(k2Client, k2Secret, ttl: 150)).ExpectProblem(HttpStatusCode.Forbidden, "key_lifetime_exceeded");
        Assert.Equal("active", State((await k2Client.GetReplyAsync($"{Api}/keys/self")).Expect(HttpStatusCode.OK).Json));

        // Without a ttl, the successor lives as long as the chain may.
        var k3 = (await RotateAsync(k2Client, k2Secret)).Expect(HttpStatusCode.Created).Json;
        Assert.True(k3.GetProperty("expires_at").GetDateTimeOffset() <= limit, $"K3 expires {k3.GetProperty("expires_at")} after K1 ({limit:O}): {k3}");
        Assert.True(k3.GetProperty("expires_at").GetDateTimeOffset() > time.GetUtcNow());

        // A successor of a successor is bounded by the same limit.
        time.Advance(TimeSpan.FromSeconds(50));
        var k3Secret = k3.GetProperty("session_key").GetString()!;
        using var k3Client = server.CreateClient(k3Secret);
        var k3Lifetime = (int)(k3.GetProperty("expires_at").GetDateTimeOffset() - k3.GetProperty("created_at").GetDateTimeOffset()).TotalSeconds;
        (await RotateAsync(k3Client, k3Secret, ttl: k3Lifetime)).ExpectProblem(HttpStatusCode.Forbidden, "key_lifetime_exceeded");
        var k4 = (await RotateAsync(k3Client, k3Secret)).Expect(HttpStatusCode.Created).Json;
        Assert.True(k4.GetProperty("expires_at").GetDateTimeOffset() <= limit, $"K4 expires {k4.GetProperty("expires_at")} after K1 ({limit:O}): {k4}");

        // And when K1's time is up, so is the whole chain.
        time.Advance(limit - time.GetUtcNow() + TimeSpan.FromSeconds(1));
        using var k4Client = server.CreateClient(k4.GetProperty("session_key").GetString());
        (await k4Client.GetReplyAsync($"{Api}/keys/self")).ExpectProblem(HttpStatusCode.Unauthorized, "key_expired");
    }
}
