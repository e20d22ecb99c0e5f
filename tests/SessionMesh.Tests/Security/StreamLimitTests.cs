using System.Net;
using System.Text;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Security;

/// <summary>Streams answer at once and stay audible when quiet; open streams are capped per key and per agent.</summary>
public sealed class StreamLimitTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("api/session-mesh/events")]
    [InlineData("api/session-mesh/agents/idle-agent/commands")]
    public async Task A_stream_sends_its_headers_and_a_comment_at_once_then_keep_alives_while_quiet(string path)
    {
        await using var server = await MeshTestServer.StartAsync(settings: new Dictionary<string, string> { ["Server:StreamKeepAlive"] = "00:00:00.200" });
        using var client = server.CreateClient();
        await client.JoinAsync("idle-agent");
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.ParseAdd("text/event-stream");

        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Ct).WaitAsync(TimeSpan.FromSeconds(5), Ct);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var body = new StreamReader(await response.Content.ReadAsStreamAsync(Ct), Encoding.UTF8);
        Assert.Equal(": connected", await body.ReadLineAsync(Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(5), Ct));

        // Frames may come between (a ping, a lease renewal); a keep-alive comment follows within a few intervals.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(TestTimeouts.Event);
        string? line;
        while ((line = await body.ReadLineAsync(deadline.Token)) != ": keep-alive")
        {
            Assert.NotNull(line);
        }
    }

    [Fact]
    public async Task A_command_stream_past_the_agents_cap_is_refused_429_with_retry_after_until_one_closes()
    {
        await using var server = await MeshTestServer.StartAsync(settings: new Dictionary<string, string> { ["Server:MaxCommandStreamsPerAgent"] = "2" });
        using var client = server.CreateClient();
        await client.JoinAsync("worker");
        var first = await SseReader.OpenAsync(client, "api/session-mesh/agents/worker/commands");
        await using var second = await SseReader.OpenAsync(client, "api/session-mesh/agents/worker/commands");

        var refused = await OpenAsync(client, "api/session-mesh/agents/worker/commands");
        refused.ExpectProblem(HttpStatusCode.TooManyRequests, "too_many_streams");
        Assert.Equal("5", refused.Headers["Retry-After"]);
        Assert.Contains("'worker'", refused.Json.GetProperty("detail").GetString(), StringComparison.Ordinal);
        // A long poll is a stream too; another agent is not affected.
        (await client.GetReplyAsync("api/session-mesh/agents/worker/commands?wait=0")).ExpectProblem(HttpStatusCode.TooManyRequests, "too_many_streams");
        await client.JoinAsync("other");
        (await client.GetReplyAsync("api/session-mesh/agents/other/commands?wait=0")).Expect(HttpStatusCode.OK);

        await first.DisposeAsync();
        await EventuallyAsync(async () => (await client.GetReplyAsync("api/session-mesh/agents/worker/commands?wait=0")).Status == HttpStatusCode.OK);
    }

    [Fact]
    public async Task Streams_past_the_keys_cap_are_refused_429_and_other_keys_are_not_affected()
    {
        await using var server = await MeshTestServer.StartAsync(settings: new Dictionary<string, string> { ["Server:MaxStreamsPerKey"] = "2" });
        using var admin = server.CreateClient();
        var watcherKey = (await admin.PostReplyAsync("api/session-mesh/keys", """{"scopes": ["read"]}""")).Expect(HttpStatusCode.Created).Json.GetProperty("session_key").GetString();
        using var watcher = server.CreateClient(watcherKey);
        await using var one = await SseReader.OpenAsync(watcher, "api/session-mesh/events");
        await using var two = await SseReader.OpenAsync(watcher, "api/session-mesh/events");

        var refused = await OpenAsync(watcher, "api/session-mesh/events");
        refused.ExpectProblem(HttpStatusCode.TooManyRequests, "too_many_streams");
        Assert.True(refused.Headers.ContainsKey("Retry-After"));
        // A page of events is no stream; the admin key has its own slots.
        (await watcher.GetReplyAsync("api/session-mesh/events?since=0")).Expect(HttpStatusCode.OK);
        await using var adminStream = await SseReader.OpenAsync(admin, "api/session-mesh/events");
    }

    private static async Task<Reply> OpenAsync(HttpClient client, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.ParseAdd("text/event-stream");
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Ct);
        Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
        return await Reply.ReadAsync(response);
    }

    private static async Task EventuallyAsync(Func<Task<bool>> condition)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(TestTimeouts.Event);
        while (!await condition())
        {
            // Polled, not slept on: the slot frees when the server sees the client go.
            await Task.Yield();
            deadline.Token.ThrowIfCancellationRequested();
        }
    }
}
