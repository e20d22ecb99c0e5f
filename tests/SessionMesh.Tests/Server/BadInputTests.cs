using System.Net;
using System.Text;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Server;

public sealed class BadInputTests
{
    private const string Api = "api/session-mesh";

    [Theory]
    [InlineData("""{"agent_id": "ok", "surprise": 1}""", "surprise")]
    [InlineData("""{"agent_id": 42}""", "agent_id")]
    [InlineData("""{"agent_id": "ok", "ttl": "thirty"}""", "ttl")]
    [InlineData("""{"agent_id": "ok", "ttl": 0}""", "ttl")]
    [InlineData("""{"agent_id": "ok", "ttl": 86401}""", "ttl")]
    [InlineData("""{"agent_id": "-starts-with-dash"}""", "agent_id")]
    [InlineData("""{"agent_id": "has space"}""", "agent_id")]
    [InlineData("""{}""", "agent_id")]
    [InlineData("""{"agent_id": "ok", "labels": {"bad key!": "v"}}""", "labels.bad key!")]
    [InlineData("""{"agent_id": "ok", "specializations": [{"name": "x", "extra": true}]}""", "specializations[0].extra")]
    [InlineData("""{"agent_id": "ok", "parent_id": "ok"}""", "parent_id")]
    [InlineData("""{"agent_id": "ok", "ttl": "30"}""", "ttl")]
    [InlineData("""{"agent_id": "ok", "labels": {"team": 7}}""", "labels.team")]
    [InlineData("""{"agent_id": "first", "agent_id": "second"}""", "agent_id")]
    [InlineData("""{"agent_id": "ok", "labels": {"team": "a", "team": "b"}}""", "team")]
    public async Task Join_with_bad_input_is_400_naming_the_field(string body, string field)
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();

        var reply = (await client.PostReplyAsync($"{Api}/sessions", body)).ExpectProblem(HttpStatusCode.BadRequest, "validation_failed");

        Assert.Contains(field.Split('.', '[')[^1].TrimEnd(']'), reply.Json.GetProperty("detail").GetString() + reply.Json.GetProperty("field").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, (await client.GetReplyAsync($"{Api}/alive?filter=all")).Json.GetProperty("items").GetArrayLength());
    }

    [Theory]
    [InlineData("null")]
    [InlineData("[]")]
    [InlineData("\"agent\"")]
    public async Task A_body_that_is_not_an_object_is_400_saying_so(string body)
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();

        var reply = (await client.PostReplyAsync($"{Api}/sessions", body)).ExpectProblem(HttpStatusCode.BadRequest, "validation_failed");

        Assert.Contains("JSON object", reply.Json.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_field_inside_a_nested_object_is_named_by_its_full_path()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();

        var reply = (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "ok", "specializations": [{"name": "x", "colour": "red"}]}""")).ExpectProblem(HttpStatusCode.BadRequest, "validation_failed");

        Assert.Equal("specializations[0].colour", reply.Json.GetProperty("field").GetString());
    }

    [Fact]
    public async Task Malformed_json_is_400_not_500()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();

        (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "x",""")).ExpectProblem(HttpStatusCode.BadRequest, "validation_failed");
        (await client.PostReplyAsync($"{Api}/registry", "not json at all")).ExpectProblem(HttpStatusCode.BadRequest, "validation_failed");
    }

    [Fact]
    public async Task Missing_body_is_400()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();

        var reply = await client.SendReplyAsync(HttpMethod.Post, $"{Api}/sessions");

        reply.ExpectProblem(HttpStatusCode.BadRequest, "validation_failed");
    }

    [Fact]
    public async Task Body_over_one_mebibyte_is_413()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        var huge = "{\"agent_id\": \"x\", \"labels\": {\"k\": \"" + new string('a', 1024 * 1024) + "\"}}";

        (await client.PostReplyAsync($"{Api}/sessions", huge)).ExpectProblem(HttpStatusCode.RequestEntityTooLarge, "payload_too_large");
    }

    [Fact]
    public async Task Json_body_is_read_whatever_the_content_type_says()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        using var form = new StringContent("""{"agent_id": "curl-agent"}""", Encoding.UTF8, "application/x-www-form-urlencoded");

        using var response = await client.PostAsync($"{Api}/sessions", form, TestContext.Current.CancellationToken);

        (await Reply.ReadAsync(response)).Expect(HttpStatusCode.Created);
    }

    [Theory]
    [InlineData("alive?filter=sleepy", "filter")]
    [InlineData("alive?limit=0", "limit")]
    [InlineData("alive?limit=1001", "limit")]
    [InlineData("alive?limit=ten", "limit")]
    [InlineData("audit?limit=abc", "whole number")]
    [InlineData("registry?specialization=s&alive=maybe", "true or false")]
    [InlineData("alive?label=novalue", "label")]
    [InlineData("alive?cursor=%%%", "cursor")]
    [InlineData("registry", "specialization")]
    [InlineData("agents?parent_id=bad%20id", "parent_id")]
    public async Task Bad_query_parameters_are_400_naming_the_parameter(string query, string parameter)
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();

        var reply = await client.GetReplyAsync($"{Api}/{query}");

        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.Equal("application/problem+json", reply.ContentType);
        Assert.Contains(parameter, reply.Json.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Heartbeat_with_out_of_range_load_or_unknown_status_is_400()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        var id = (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "h"}""")).Json.GetProperty("session_id").GetString();

        Assert.Equal("load", (await client.PostReplyAsync($"{Api}/sessions/{id}/heartbeat", """{"load": 1.5}""")).ExpectProblem(HttpStatusCode.BadRequest, "validation_failed").Json.GetProperty("field").GetString());
        Assert.Equal("status", (await client.PostReplyAsync($"{Api}/sessions/{id}/heartbeat", """{"status": "asleep"}""")).ExpectProblem(HttpStatusCode.BadRequest, "validation_failed").Json.GetProperty("field").GetString());
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("seven")]
    public async Task A_bad_Last_Event_ID_on_events_is_400_naming_the_header(string value)
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{Api}/events?since=0");
        request.Headers.Add("Last-Event-ID", value);

        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal("Last-Event-ID", (await Reply.ReadAsync(response)).ExpectProblem(HttpStatusCode.BadRequest, "validation_failed").Json.GetProperty("field").GetString());
    }

    [Fact]
    public async Task Unknown_api_route_is_a_problem_404()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();

        (await client.GetReplyAsync($"{Api}/nothing-here")).ExpectProblem(HttpStatusCode.NotFound, "route_not_found");
    }
}
