using System.Net;
using Microsoft.Extensions.Time.Testing;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Server;

public sealed class KeyApiTests
{
    private const string Api = "api/session-mesh";

    [Fact]
    public async Task Seed_key_body_mints_a_key_shown_once_and_never_listed_with_its_secret()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var root = server.CreateClient();

        var created = (await root.PostReplyAsync($"{Api}/keys", """{"ttl": 3600, "scopes": ["read", "steer"], "name": "ops"}""")).Expect(HttpStatusCode.Created).Json;

        var secret = created.GetProperty("session_key").GetString()!;
        var keyId = created.GetProperty("key_id").GetString()!;
        Assert.StartsWith("sm_" + keyId + ".", secret, StringComparison.Ordinal);
        Assert.True(secret.Length >= 3 + keyId.Length + 1 + 43, "256 bits of secret in base64url");
        Assert.Equal(["read", "steer"], created.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()));
        Assert.Equal(created.GetProperty("created_at").GetDateTimeOffset().AddHours(1), created.GetProperty("expires_at").GetDateTimeOffset());

        var list = await root.GetReplyAsync($"{Api}/keys");
        Assert.DoesNotContain(secret.Split('.')[1], list.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("session_key", list.Body, StringComparison.Ordinal);
        Assert.Contains(list.Json.GetProperty("items").EnumerateArray(), k => k.GetProperty("key_id").GetString() == keyId);

        using var minted = server.CreateClient(secret);
        var self = (await minted.GetReplyAsync($"{Api}/keys/self")).Expect(HttpStatusCode.OK).Json;
        Assert.Equal(keyId, self.GetProperty("key_id").GetString());
        Assert.Equal("active", self.GetProperty("state").GetString());
        Assert.Equal("ops", self.GetProperty("name").GetString());
    }

    [Fact]
    public async Task Secrets_are_stored_only_as_hashes()
    {
        using var temp = new TempDirectory();
        var dataDir = temp.Path;
        string secret;
        await using (var server = await MeshTestServer.StartAsync(dataDir))
        {
            using var root = server.CreateClient();
            secret = (await root.PostReplyAsync($"{Api}/keys", """{"scopes": ["read"]}""")).Json.GetProperty("session_key").GetString()!;
        }
        var bytes = Directory.GetFiles(dataDir, "session-mesh.db*").SelectMany(File.ReadAllBytes).ToArray();
        var needle = System.Text.Encoding.UTF8.GetBytes(secret.Split('.')[1]);
        Assert.True(bytes.AsSpan().IndexOf(needle) < 0, "the secret must not be in the database files");
    }

    [Fact]
    public async Task Revoked_key_is_refused_at_once()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var root = server.CreateClient();
        var key = (await root.PostReplyAsync($"{Api}/keys", """{"scopes": ["read"]}""")).Json;
        using var minted = server.CreateClient(key.GetProperty("session_key").GetString());
        (await minted.GetReplyAsync($"{Api}/alive")).Expect(HttpStatusCode.OK);

        var revoked = (await root.DeleteReplyAsync($"{Api}/keys/{key.GetProperty("key_id").GetString()}")).Expect(HttpStatusCode.OK).Json;

        Assert.Equal("revoked", revoked.GetProperty("state").GetString());
        (await minted.GetReplyAsync($"{Api}/alive")).ExpectProblem(HttpStatusCode.Unauthorized, "key_revoked");
        (await root.DeleteReplyAsync($"{Api}/keys/key_doesnotexist")).ExpectProblem(HttpStatusCode.NotFound, "key_not_found");
    }

    [Fact]
    public async Task A_key_may_revoke_itself_without_the_keys_scope()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var root = server.CreateClient();
        var key = (await root.PostReplyAsync($"{Api}/keys", """{"scopes": ["read"]}""")).Json;
        using var minted = server.CreateClient(key.GetProperty("session_key").GetString());

        (await minted.DeleteReplyAsync($"{Api}/keys/{key.GetProperty("key_id").GetString()}")).Expect(HttpStatusCode.OK);

        (await minted.GetReplyAsync($"{Api}/keys/self")).ExpectProblem(HttpStatusCode.Unauthorized, "key_revoked");
    }

    [Fact]
    public async Task Rotation_issues_a_new_secret_with_the_same_grants_and_revokes_the_old()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var root = server.CreateClient();
        var old = (await root.PostReplyAsync($"{Api}/keys", """{"scopes": ["read", "agent"], "agent_id": "bot-1", "ttl": 3600}""")).Json;
        var oldSecret = old.GetProperty("session_key").GetString()!;
        using var oldClient = server.CreateClient(oldSecret);

        // The seed's body: {"session_key": "...", "ttl": 3600}, sent by the key itself.
        var rotated = (await oldClient.PostReplyAsync($"{Api}/keys", $$"""{"session_key": "{{oldSecret}}", "ttl": 3600}""")).Expect(HttpStatusCode.Created).Json;

        Assert.NotEqual(oldSecret, rotated.GetProperty("session_key").GetString());
        Assert.Equal(old.GetProperty("key_id").GetString(), rotated.GetProperty("rotated_from").GetString());
        Assert.Equal("bot-1", rotated.GetProperty("agent_id").GetString());
        Assert.Equal(["read", "agent"], rotated.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()));
        (await oldClient.GetReplyAsync($"{Api}/keys/self")).ExpectProblem(HttpStatusCode.Unauthorized, "key_revoked");
        using var newClient = server.CreateClient(rotated.GetProperty("session_key").GetString());
        (await newClient.GetReplyAsync($"{Api}/keys/self")).Expect(HttpStatusCode.OK);
        (await root.PostReplyAsync($"{Api}/keys", $$"""{"session_key": "{{oldSecret}}"}""")).ExpectProblem(HttpStatusCode.BadRequest, "validation_failed");
    }

    [Fact]
    public async Task A_key_never_mints_a_wider_or_longer_lived_key()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var root = server.CreateClient();
        var minter = (await root.PostReplyAsync($"{Api}/keys", """{"scopes": ["read", "keys"], "ttl": 600}""")).Json.GetProperty("session_key").GetString();
        using var client = server.CreateClient(minter);

        Assert.Equal("scopes", (await client.PostReplyAsync($"{Api}/keys", """{"scopes": ["read", "kill"]}""")).ExpectProblem(HttpStatusCode.Forbidden, "scope_escalation").Json.GetProperty("field").GetString());
        (await client.PostReplyAsync($"{Api}/keys", """{"scopes": ["admin"]}""")).ExpectProblem(HttpStatusCode.Forbidden, "scope_escalation");
        Assert.Equal("ttl", (await client.PostReplyAsync($"{Api}/keys", """{"scopes": ["read"], "ttl": 3600}""")).ExpectProblem(HttpStatusCode.Forbidden, "key_lifetime_exceeded").Json.GetProperty("field").GetString());
        (await client.PostReplyAsync($"{Api}/keys", """{"scopes": ["read"], "cluster": "elsewhere"}""")).ExpectProblem(HttpStatusCode.NotFound, "cluster_not_found");
        var narrower = (await client.PostReplyAsync($"{Api}/keys", """{"scopes": ["read"], "ttl": 300}""")).Expect(HttpStatusCode.Created).Json;
        Assert.Equal(["read"], narrower.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()));
    }

    [Fact]
    public async Task An_agent_bound_key_mints_only_keys_bound_to_its_agent()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var root = server.CreateClient();
        var bound = (await root.PostReplyAsync($"{Api}/keys", """{"scopes": ["agent", "keys"], "agent_id": "bot"}""")).Json.GetProperty("session_key").GetString();
        using var client = server.CreateClient(bound);

        (await client.PostReplyAsync($"{Api}/keys", """{"scopes": ["agent"], "agent_id": "other"}""")).ExpectProblem(HttpStatusCode.Forbidden, "agent_mismatch");
        var child = (await client.PostReplyAsync($"{Api}/keys", """{"scopes": ["agent"], "ttl": 60}""")).Expect(HttpStatusCode.Created).Json;
        Assert.Equal("bot", child.GetProperty("agent_id").GetString());
    }

    [Fact]
    public async Task Unknown_scope_is_400_naming_scopes()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var root = server.CreateClient();

        var reply = (await root.PostReplyAsync($"{Api}/keys", """{"scopes": ["read", "fly"]}""")).ExpectProblem(HttpStatusCode.BadRequest, "validation_failed");

        Assert.Equal("scopes", reply.Json.GetProperty("field").GetString());
        Assert.Contains("fly", reply.Json.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Expired_key_is_401_key_expired()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await MeshTestServer.StartAsync(time: time);
        using var root = server.CreateClient();
        var secret = (await root.PostReplyAsync($"{Api}/keys", """{"scopes": ["read"], "ttl": 30}""")).Json.GetProperty("session_key").GetString();
        using var client = server.CreateClient(secret);
        (await client.GetReplyAsync($"{Api}/alive")).Expect(HttpStatusCode.OK);

        time.Advance(TimeSpan.FromSeconds(30));

        (await client.GetReplyAsync($"{Api}/alive")).ExpectProblem(HttpStatusCode.Unauthorized, "key_expired");
    }

    [Fact]
    public async Task Root_key_is_generated_once_printed_and_written_0600()
    {
        using var temp = new TempDirectory();
        var dataDir = temp.Path;
        string generated;
        await using (var server = await MeshTestServer.StartAsync(dataDir, rootKey: ""))
        {
            generated = server.RootKey;
            Assert.StartsWith("sm_root.", generated, StringComparison.Ordinal);
            using var client = server.CreateClient();
            (await client.GetReplyAsync($"{Api}/keys/self")).Expect(HttpStatusCode.OK);
        }
        var file = Path.Combine(dataDir, "root.key");
        Assert.Equal(generated, (await File.ReadAllTextAsync(file, TestContext.Current.CancellationToken)).Trim());
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        }

        await using var restarted = await MeshTestServer.StartAsync(dataDir, rootKey: "");
        Assert.Equal(generated, (await File.ReadAllTextAsync(file, TestContext.Current.CancellationToken)).Trim());
        using var again = restarted.CreateClient(generated);
        (await again.GetReplyAsync($"{Api}/keys/self")).Expect(HttpStatusCode.OK);
    }
}
