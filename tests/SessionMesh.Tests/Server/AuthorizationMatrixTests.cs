using System.Net;
using Microsoft.Extensions.Time.Testing;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Server;

/// <summary>One server with a prepared fleet and keys, shared by the matrix.</summary>
public sealed class AuthorizationFixture : IAsyncLifetime
{
    public const string Api = "api/session-mesh";

    public FakeTimeProvider Time { get; } = new(DateTimeOffset.UtcNow);
    public MeshTestServer Server { get; private set; } = null!;
    public string SessionId { get; private set; } = "";
    public string VictimKeyId { get; private set; } = "";
    public Dictionary<string, string> Keys { get; } = [];

    public async ValueTask InitializeAsync()
    {
        Server = await MeshTestServer.StartAsync(time: Time);
        using var root = Server.CreateClient();
        SessionId = (await root.PostReplyAsync($"{Api}/sessions", """{"agent_id": "target", "ttl": 86400}""")).Expect(HttpStatusCode.Created).Json.GetProperty("session_id").GetString()!;
        (await root.PostReplyAsync($"{Api}/registry", """{"specialization": "s", "agent_id": "target"}""")).Expect(HttpStatusCode.Created);

        async Task<(string Id, string Secret)> Mint(string body)
        {
            var key = (await root.PostReplyAsync($"{Api}/keys", body)).Expect(HttpStatusCode.Created).Json;
            return (key.GetProperty("key_id").GetString()!, key.GetProperty("session_key").GetString()!);
        }
        Keys["read"] = (await Mint("""{"scopes": ["read"]}""")).Secret;
        Keys["agent"] = (await Mint("""{"scopes": ["agent"]}""")).Secret;
        Keys["other-cluster"] = (await Mint("""{"scopes": ["read", "agent", "register", "steer", "kill", "keys"], "cluster": "other"}""")).Secret;
        Keys["bound"] = (await Mint("""{"scopes": ["read", "agent"], "agent_id": "me"}""")).Secret;
        Keys["expired"] = (await Mint("""{"scopes": ["read", "agent", "register", "keys"], "ttl": 60}""")).Secret;
        var revoked = await Mint("""{"scopes": ["read", "agent", "register", "keys"]}""");
        Keys["revoked"] = revoked.Secret;
        (await root.DeleteReplyAsync($"{Api}/keys/{revoked.Id}")).Expect(HttpStatusCode.OK);
        VictimKeyId = (await Mint("""{"scopes": ["read"]}""")).Id;
        Keys["unknown"] = "sm_key_0000000000000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        Keys["malformed"] = "not a key at all";
        Time.Advance(TimeSpan.FromSeconds(61));
    }

    public async ValueTask DisposeAsync() => await Server.DisposeAsync();
}

public sealed class AuthorizationMatrixTests(AuthorizationFixture fixture) : IClassFixture<AuthorizationFixture>
{
    private const string Api = AuthorizationFixture.Api;

    /// <summary>Every endpoint of this API: method, path, body, and whether it needs more than a valid key.</summary>
    public static TheoryData<string, string, string?, string> Endpoints => new()
    {
        { "GET", "alive", null, "read" },
        { "POST", "registry", """{"specialization": "s", "agent_id": "target"}""", "register" },
        { "GET", "registry?specialization=s", null, "read" },
        { "GET", "registry/specializations", null, "read" },
        { "DELETE", "registry/target/nothing", null, "register" },
        { "POST", "keys", """{"ttl": 60, "scopes": ["read"]}""", "keys" },
        { "GET", "keys", null, "keys" },
        { "GET", "keys/self", null, "" },
        { "DELETE", "keys/{victim}", null, "keys" },
        { "POST", "sessions", """{"agent_id": "target", "ttl": 86400}""", "agent" },
        { "POST", "sessions/{session}/heartbeat", "{}", "agent" },
        { "GET", "sessions/{session}", null, "read" },
        { "DELETE", "sessions/{session}", null, "agent" },
        { "GET", "agents", null, "read" },
        { "GET", "agents/target", null, "read" },
        { "GET", "agents/target/tree", null, "read" },
        { "PUT", "agents/target", """{"labels": {"team": "blue"}}""", "register" },
        { "GET", "audit", null, "keys" },
    };

    private async Task<Reply> CallAsync(string method, string path, string? body, string key, string? query = null)
    {
        using var client = fixture.Server.CreateClient(key);
        var resolved = path.Replace("{session}", fixture.SessionId, StringComparison.Ordinal).Replace("{victim}", fixture.VictimKeyId, StringComparison.Ordinal);
        if (query is not null)
        {
            resolved += (resolved.Contains('?', StringComparison.Ordinal) ? "&" : "?") + query;
        }
        return await client.SendReplyAsync(new HttpMethod(method), $"{Api}/{resolved}", body);
    }

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task Without_a_key_is_401_with_www_authenticate(string method, string path, string? body, string scope)
    {
        _ = scope;
        var reply = (await CallAsync(method, path, body, "")).ExpectProblem(HttpStatusCode.Unauthorized, "missing_key");
        Assert.StartsWith("Bearer ", reply.Headers["WWW-Authenticate"], StringComparison.Ordinal);
        Assert.Contains("error=\"invalid_token\"", reply.Headers["WWW-Authenticate"], StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task Malformed_unknown_expired_and_revoked_keys_are_401(string method, string path, string? body, string scope)
    {
        _ = scope;
        (await CallAsync(method, path, body, fixture.Keys["malformed"])).ExpectProblem(HttpStatusCode.Unauthorized, "invalid_key");
        (await CallAsync(method, path, body, fixture.Keys["unknown"])).ExpectProblem(HttpStatusCode.Unauthorized, "invalid_key");
        (await CallAsync(method, path, body, fixture.Keys["expired"])).ExpectProblem(HttpStatusCode.Unauthorized, "key_expired");
        (await CallAsync(method, path, body, fixture.Keys["revoked"])).ExpectProblem(HttpStatusCode.Unauthorized, "key_revoked");
    }

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task A_key_without_the_scope_is_403(string method, string path, string? body, string scope)
    {
        if (scope.Length == 0)
        {
            (await CallAsync(method, path, body, fixture.Keys["agent"])).Expect(HttpStatusCode.OK);
            return;
        }
        var key = scope == "read" ? fixture.Keys["agent"] : fixture.Keys["read"];
        (await CallAsync(method, path, body, key)).ExpectProblem(HttpStatusCode.Forbidden, "insufficient_scope");
    }

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task A_key_of_another_cluster_sees_nothing_of_this_one(string method, string path, string? body, string scope)
    {
        if (scope.Length == 0)
        {
            return;
        }
        // Bodies that carry a cluster ask for this one; the rest name it in the query.
        var asked = body is not null && !path.StartsWith("sessions/", StringComparison.Ordinal)
            ? body.Replace("{", """{"cluster": "default", """, StringComparison.Ordinal).Replace(", }", "}", StringComparison.Ordinal)
            : body;
        var reply = await CallAsync(method, path, asked, fixture.Keys["other-cluster"], "cluster=default");
        reply.Expect(HttpStatusCode.NotFound);
        Assert.Contains(reply.Code, new[] { "cluster_not_found", "session_not_found", "key_not_found" });
    }

    [Theory]
    [InlineData("POST", "sessions", """{"agent_id": "target"}""")]
    [InlineData("POST", "sessions/{session}/heartbeat", "{}")]
    [InlineData("DELETE", "sessions/{session}", null)]
    [InlineData("POST", "registry", """{"specialization": "s2", "agent_id": "target"}""")]
    [InlineData("DELETE", "registry/target/s", null)]
    [InlineData("PUT", "agents/target", """{"labels": {}}""")]
    public async Task An_agent_bound_key_cannot_act_for_another_agent(string method, string path, string? body)
    {
        (await CallAsync(method, path, body, fixture.Keys["bound"])).ExpectProblem(HttpStatusCode.Forbidden, "agent_mismatch");
    }

    [Fact]
    public async Task Other_cluster_key_lists_only_its_own_empty_cluster()
    {
        var items = (await CallAsync("GET", "alive?filter=all", null, fixture.Keys["other-cluster"])).Expect(HttpStatusCode.OK).Json.GetProperty("items");
        Assert.Equal(0, items.GetArrayLength());
    }
}
