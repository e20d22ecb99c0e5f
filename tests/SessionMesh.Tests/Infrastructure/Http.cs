using System.Net;
using System.Text;
using System.Text.Json;

namespace SessionMesh.Tests.Infrastructure;

/// <summary>Raw JSON over HTTP, so tests assert the wire format itself.</summary>
public static class Http
{
    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    public static async Task<Reply> SendReplyAsync(this HttpClient client, HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = json is null ? null : Json(json) };
        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        return await Reply.ReadAsync(response);
    }

    public static Task<Reply> GetReplyAsync(this HttpClient client, string path) => client.SendReplyAsync(HttpMethod.Get, path);

    public static Task<Reply> PostReplyAsync(this HttpClient client, string path, string json) => client.SendReplyAsync(HttpMethod.Post, path, json);

    public static Task<Reply> DeleteReplyAsync(this HttpClient client, string path) => client.SendReplyAsync(HttpMethod.Delete, path);

    /// <summary>Joins <paramref name="agentId"/> (under <paramref name="parentId"/>, if given) and returns the new session id.</summary>
    public static async Task<string> JoinAsync(this HttpClient client, string agentId, string? parentId = null)
    {
        var body = parentId is null ? $$"""{"agent_id": "{{agentId}}"}""" : $$"""{"agent_id": "{{agentId}}", "parent_id": "{{parentId}}"}""";
        return (await client.PostReplyAsync("api/session-mesh/sessions", body)).Expect(HttpStatusCode.Created).Json.GetProperty("session_id").GetString()!;
    }
}

/// <summary>A response read whole: status, headers, and the body as JSON when it is JSON.</summary>
public sealed record Reply(HttpStatusCode Status, string Body, string? ContentType, IReadOnlyDictionary<string, string> Headers)
{
    public JsonElement Json => JsonDocument.Parse(Body).RootElement;

    public string? Code => Json.TryGetProperty("code", out var code) ? code.GetString() : null;

    public static async Task<Reply> ReadAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        var headers = response.Headers.Concat(response.Content.Headers)
            .ToDictionary(h => h.Key, h => string.Join(", ", h.Value), StringComparer.OrdinalIgnoreCase);
        return new Reply(response.StatusCode, body, response.Content.Headers.ContentType?.MediaType, headers);
    }

    /// <summary>Asserts the status, with the body in the failure message.</summary>
    public Reply Expect(HttpStatusCode status)
    {
        Assert.True(status == Status, $"Expected {(int)status} {status}, got {(int)Status} {Status}: {Body}");
        return this;
    }

    /// <summary>Asserts an RFC 9457 problem with the given status and code.</summary>
    public Reply ExpectProblem(HttpStatusCode status, string code)
    {
        Expect(status);
        Assert.True("application/problem+json" == ContentType, $"Expected a problem, got {ContentType}: {Body}");
        Assert.True(code == Code, $"Expected code {code}: {Body}");
        Assert.Equal((int)status, Json.GetProperty("status").GetInt32());
        return this;
    }
}
