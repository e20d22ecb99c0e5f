using System.Net;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Server;

/// <summary>The exact problem+json members, in order, whichever path wrote the problem.</summary>
public sealed class ProblemWireTests
{
    private const string Api = "api/session-mesh";

    [Fact]
    public async Task A_domain_refusal_has_the_members_in_wire_order()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();

        var reply = (await client.PostReplyAsync($"{Api}/steer", """{"agent_id": "ghost", "direction": "east"}""")).ExpectProblem(HttpStatusCode.NotFound, "agent_not_found");

        Assert.Equal(["type", "title", "status", "detail", "instance", "code", "trace_id"], reply.Json.EnumerateObject().Select(m => m.Name));
        Assert.Equal("https://session-mesh.dev/problems/agent_not_found", reply.Json.GetProperty("type").GetString());
        Assert.Equal("Not found", reply.Json.GetProperty("title").GetString());
        Assert.Equal("/api/session-mesh/steer", reply.Json.GetProperty("instance").GetString());
        Assert.False(string.IsNullOrEmpty(reply.Json.GetProperty("trace_id").GetString()));
    }

    [Fact]
    public async Task Bad_input_names_the_field_between_code_and_trace_id()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();

        var reply = (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "ok", "ttl": 0}""")).ExpectProblem(HttpStatusCode.BadRequest, "validation_failed");

        Assert.Equal(["type", "title", "status", "detail", "instance", "code", "field", "trace_id"], reply.Json.EnumerateObject().Select(m => m.Name));
        Assert.Equal(("Invalid request", "ttl"), (reply.Json.GetProperty("title").GetString(), reply.Json.GetProperty("field").GetString()));
        // docs/api.md: the JSON escapes ' as \u0027.
        Assert.True(reply.Body.Contains("\\u0027ttl\\u0027", StringComparison.Ordinal), reply.Body);
    }

    [Fact]
    public async Task A_stream_request_is_refused_with_a_problem_whatever_it_accepts()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{Api}/agents/ghost/commands");
        request.Headers.Accept.ParseAdd("text/event-stream");

        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);

        (await Reply.ReadAsync(response)).ExpectProblem(HttpStatusCode.NotFound, "agent_not_found");
    }

    [Fact]
    public async Task A_key_revoked_during_a_long_poll_is_a_401_with_the_bearer_challenge()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var root = server.CreateClient();
        var key = (await root.PostReplyAsync($"{Api}/keys", """{"scopes": ["agent"], "agent_id": "poller"}""")).Expect(HttpStatusCode.Created).Json;
        using var agent = server.CreateClient(key.GetProperty("session_key").GetString());
        await agent.JoinAsync("poller");

        var poll = agent.GetReplyAsync($"{Api}/agents/poller/commands?wait=60");
        (await root.DeleteReplyAsync($"{Api}/keys/{key.GetProperty("key_id").GetString()}")).Expect(HttpStatusCode.OK);
        var reply = (await poll.WaitAsync(TestTimeouts.Request, TestContext.Current.CancellationToken)).ExpectProblem(HttpStatusCode.Unauthorized, "key_revoked");

        Assert.Equal("Unauthorized", reply.Json.GetProperty("title").GetString());
        Assert.Equal("Bearer realm=\"session-mesh\", error=\"invalid_token\", error_description=\"key_revoked\"", reply.Headers["WWW-Authenticate"]);
    }
}
