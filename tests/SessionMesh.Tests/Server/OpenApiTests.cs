using System.Net;
using System.Text.Json;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Server;

/// <summary>The OpenAPI document lists every problem an endpoint can answer, as problem+json in the wire shape.</summary>
public sealed class OpenApiTests
{
    private const string Api = "/api/session-mesh";

    [Theory]
    [InlineData("post", "/steer", new[] { 400, 401, 403, 404, 409, 413, 429, 507 })]
    [InlineData("delete", "/agents/{agent_id}", new[] { 400, 401, 403, 404, 429, 507 })]
    [InlineData("post", "/sessions/{session_id}/heartbeat", new[] { 400, 401, 403, 404, 410, 413, 429, 507 })]
    [InlineData("get", "/sessions/{session_id}", new[] { 401, 403, 404, 429 })]
    [InlineData("get", "/events", new[] { 400, 401, 403, 404, 410, 429 })]
    [InlineData("delete", "/keys/{key_id}", new[] { 401, 403, 404, 409, 429, 507 })]
    [InlineData("get", "/keys/self", new[] { 401, 404, 429 })]
    public async Task Each_endpoint_lists_exactly_the_problems_it_can_answer(string method, string path, int[] statuses)
    {
        var operation = (await DocumentAsync()).GetProperty("paths").GetProperty(Api + path).GetProperty(method);

        var responses = operation.GetProperty("responses").EnumerateObject().ToDictionary(r => r.Name, r => r.Value);
        var problems = responses.Keys.Select(int.Parse).Where(s => s >= 400).Order().ToArray();
        Assert.Equal(statuses, problems);
        foreach (var status in statuses)
        {
            var content = responses[status.ToString(System.Globalization.CultureInfo.InvariantCulture)].GetProperty("content");
            Assert.Equal(["application/problem+json"], content.EnumerateObject().Select(c => c.Name));
        }
    }

    [Fact]
    public async Task The_problem_schema_is_the_wire_shape()
    {
        var doc = await DocumentAsync();
        var steer = doc.GetProperty("paths").GetProperty(Api + "/steer").GetProperty("post").GetProperty("responses");
        var reference = steer.GetProperty("404").GetProperty("content").GetProperty("application/problem+json").GetProperty("schema").GetProperty("$ref").GetString()!;

        var schema = doc.GetProperty("components").GetProperty("schemas").GetProperty(reference.Split('/')[^1]);

        var members = schema.GetProperty("properties").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Equal(["type", "title", "status", "detail", "instance", "code", "field", "trace_id"], members);
    }

    [Fact]
    public async Task Operations_endpoints_declare_no_api_problems()
    {
        var health = (await DocumentAsync()).GetProperty("paths").GetProperty("/healthz").GetProperty("get").GetProperty("responses");

        Assert.DoesNotContain(health.EnumerateObject(), r => r.Name is "401" or "429");
    }

    private static async Task<JsonElement> DocumentAsync()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var anonymous = server.CreateClient("");
        return (await anonymous.GetReplyAsync("openapi/v1.json")).Expect(HttpStatusCode.OK).Json.Clone();
    }
}
