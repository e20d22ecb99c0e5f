using System.Net;
using System.Text;
using System.Text.Json;
using SessionMesh.Model;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Server;

/// <summary>Free-form JSON (payloads, results) is bounded when written, and whatever is stored can always be read.</summary>
public sealed class PayloadLimitTests
{
    private const string Api = "api/session-mesh";

    private static string Nested(int depth) => new string('[', depth) + "\"deep\"" + new string(']', depth);

    [Fact]
    public async Task A_payload_nested_deeper_than_32_is_refused_naming_it_and_32_is_accepted()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        await client.JoinAsync("deep");

        var refused = (await client.PostReplyAsync($"{Api}/steer", $$"""{"agent_id": "deep", "direction": "d", "payload": {{Nested(33)}}}""")).ExpectProblem(HttpStatusCode.BadRequest, "validation_failed");
        var message = (await client.PostReplyAsync($"{Api}/agents/deep/messages", $$"""{"text": "t", "payload": {{Nested(63)}}}""")).ExpectProblem(HttpStatusCode.BadRequest, "validation_failed");
        (await client.PostReplyAsync($"{Api}/steer", $$"""{"agent_id": "deep", "direction": "d", "payload": {{Nested(32)}}}""")).Expect(HttpStatusCode.OK);

        Assert.Equal("payload", refused.Json.GetProperty("field").GetString());
        Assert.Contains("32", refused.Json.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("payload", message.Json.GetProperty("field").GetString());
        var poll = (await client.GetReplyAsync($"{Api}/agents/deep/commands")).Expect(HttpStatusCode.OK);
        Assert.Equal(1, poll.Json.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task An_ack_result_nested_deeper_than_32_is_refused_and_the_command_stays_pending()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        await client.JoinAsync("acker");
        var id = (await client.PostReplyAsync($"{Api}/steer", """{"agent_id": "acker", "direction": "d"}""")).Json.GetProperty("command_id").GetString();

        var refused = (await client.PostReplyAsync($"{Api}/agents/acker/commands/{id}/ack", $$"""{"status": "acked", "result": {{Nested(40)}}}""")).ExpectProblem(HttpStatusCode.BadRequest, "validation_failed");

        Assert.Equal("result", refused.Json.GetProperty("field").GetString());
        Assert.Equal("queued", (await client.GetReplyAsync($"{Api}/commands/{id}")).Json.GetProperty("status").GetString());
    }

    [Theory]
    [InlineData("steer", """{"agent_id": "t", "direction": "d", "payload": {"k": "\ud800"}}""", "payload")]
    [InlineData("steer", """{"agent_id": "t", "direction": "d", "payload": {"\udc00": 1}}""", "payload")]
    [InlineData("steer", """{"agent_id": "t", "direction": "\ud83d"}""", "direction")]
    [InlineData("agents/t/messages", """{"text": "t", "payload": ["\ud800x"]}""", "payload")]
    [InlineData("agents/t/messages", """{"text": "\udfff"}""", "text")]
    [InlineData("sessions", """{"agent_id": "t2", "labels": {"k": "\ud800"}}""", "labels.k")]
    public async Task A_lone_surrogate_anywhere_is_400_naming_the_field(string path, string body, string field)
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        await client.JoinAsync("t");
        var before = await EventCountAsync(client);

        var reply = (await client.PostReplyAsync($"{Api}/{path}", body)).ExpectProblem(HttpStatusCode.BadRequest, "validation_failed");

        Assert.Equal(field, reply.Json.GetProperty("field").GetString());
        Assert.Contains("not valid Unicode", reply.Json.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(before, await EventCountAsync(client));
    }

    [Theory]
    [InlineData("steer", """{"agent_id": "t", "direction": "d", "payload": "#"}""", "payload")]
    [InlineData("steer", """{"agent_id": "t", "direction": "#"}""", "direction")]
    [InlineData("agents/t/messages", """{"text": "t", "payload": {"#": 1}}""", "payload")]
    [InlineData("agents/t/messages", """{"text": "#"}""", "text")]
    public async Task Invalid_utf8_anywhere_is_400_naming_the_field(string path, string body, string field)
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        await client.JoinAsync("t");
        var before = await EventCountAsync(client);
        var bytes = Encoding.UTF8.GetBytes(body).SelectMany(b => b == (byte)'#' ? new byte[] { 0xC3, 0x28, 0xFF } : [b]).ToArray();

        using var content = new ByteArrayContent(bytes);
        using var response = await client.PostAsync($"{Api}/{path}", content, TestContext.Current.CancellationToken);
        var reply = (await Reply.ReadAsync(response)).ExpectProblem(HttpStatusCode.BadRequest, "validation_failed");

        Assert.Equal(field, reply.Json.GetProperty("field").GetString());
        Assert.Contains("not valid Unicode", reply.Json.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(before, await EventCountAsync(client));
    }

    [Fact]
    public async Task An_ack_result_with_invalid_text_is_400_naming_result()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        await client.JoinAsync("acker");
        var id = (await client.PostReplyAsync($"{Api}/steer", """{"agent_id": "acker", "direction": "d"}""")).Json.GetProperty("command_id").GetString();

        var reply = (await client.PostReplyAsync($"{Api}/agents/acker/commands/{id}/ack", """{"status": "failed", "result": {"error": "\ud800"}}""")).ExpectProblem(HttpStatusCode.BadRequest, "validation_failed");

        Assert.Equal("result", reply.Json.GetProperty("field").GetString());
    }

    [Fact]
    public async Task A_payload_over_the_size_cap_is_400_and_the_cap_is_a_setting()
    {
        await using var server = await MeshTestServer.StartAsync(settings: new Dictionary<string, string> { ["Mesh:MaxPayloadBytes"] = "1000" });
        using var client = server.CreateClient();
        await client.JoinAsync("big");
        var fits = "\"" + new string('a', 990) + "\"";
        var over = "\"" + new string('a', 1000) + "\"";

        (await client.PostReplyAsync($"{Api}/steer", $$"""{"agent_id": "big", "direction": "d", "payload": {{fits}}}""")).Expect(HttpStatusCode.OK);
        var refused = (await client.PostReplyAsync($"{Api}/steer", $$"""{"agent_id": "big", "direction": "d", "payload": {{over}}}""")).ExpectProblem(HttpStatusCode.BadRequest, "validation_failed");

        Assert.Equal("payload", refused.Json.GetProperty("field").GetString());
        Assert.Contains("1000", refused.Json.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_default_payload_cap_is_64_KiB()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        await client.JoinAsync("big");

        var reply = await client.PostReplyAsync($"{Api}/steer", $$"""{"agent_id": "big", "direction": "d", "payload": "{{new string('a', 64 * 1024)}}"}""");

        Assert.Equal("payload", reply.ExpectProblem(HttpStatusCode.BadRequest, "validation_failed").Json.GetProperty("field").GetString());
    }

    /// <summary>
    /// A record deeper than any write allows today (an older server's, or another writer's) is put in the store
    /// directly; every read that wraps it still answers.
    /// </summary>
    [Fact]
    public async Task A_deep_record_in_the_store_never_fails_a_read()
    {
        var dataDir = MeshTestServer.NewDataDir();
        try
        {
            await ReadDeepRecordAfterRestartAsync(dataDir);
        }
        finally
        {
            MeshTestServer.DeleteDataDir(dataDir);
        }
    }

    private static async Task ReadDeepRecordAfterRestartAsync(string dataDir)
    {
        const int Depth = 200;
        var deep = JsonDocument.Parse(Nested(Depth), new JsonDocumentOptions { MaxDepth = 1000 }).RootElement.Clone();
        var ct = TestContext.Current.CancellationToken;
        const string commandId = "cmd_deep_record";
        await using (var writer = await MeshTestServer.StartAsync(dataDir))
        {
            using var first = writer.CreateClient();
            await first.JoinAsync("reader");
            var now = DateTimeOffset.UtcNow;
            await using var tx = await writer.Store.BeginWriteAsync(ct);
            var sequence = await tx.NextCommandSequenceAsync("default", "reader", ct);
            await tx.InsertCommandAsync(new CommandRecord(commandId, "default", "reader", CommandKind.Steer, CommandStatus.Queued, sequence,
                "d", "inject", null, null, null, null, deep, deep, now, null, null, now.AddHours(1), "root", null), ct);
            await tx.AppendEventAsync("default", "command.queued", now, "reader", null, deep, ct);
            await tx.CommitAsync(ct);
        }
        // A restart reads the log from the store, as a server upgraded over an older one's records does.
        await using var server = await MeshTestServer.StartAsync(dataDir);
        using var client = server.CreateClient();
        var expected = Nested(Depth);

        var get = (await client.GetReplyAsync($"{Api}/commands/{commandId}")).Expect(HttpStatusCode.OK);
        Assert.True(get.Body.Contains(expected, StringComparison.Ordinal), get.Body);

        var events = (await client.GetReplyAsync($"{Api}/events?since=0&limit=1000")).Expect(HttpStatusCode.OK);
        Assert.True(events.Body.Contains(expected, StringComparison.Ordinal), events.Body);

        var poll = (await client.GetReplyAsync($"{Api}/agents/reader/commands")).Expect(HttpStatusCode.OK);
        Assert.True(poll.Body.Contains(expected, StringComparison.Ordinal), poll.Body);

        await using (var stream = await SseReader.OpenAsync(client, $"{Api}/agents/reader/commands?after=0"))
        {
            var frame = await stream.NextOfTypeAsync("command");
            Assert.True(frame.Data.Contains(expected, StringComparison.Ordinal), frame.Data);
        }

        await using (var watch = await SseReader.OpenAsync(client, $"{Api}/events?since=0"))
        {
            var seen = false;
            while (!seen)
            {
                var frame = await watch.NextAsync() ?? throw new InvalidOperationException("The event stream ended.");
                seen = frame.Data.Contains(expected, StringComparison.Ordinal);
            }
        }

        // The delivery the poll made appended an event that wraps the deep payload again (once its write, which
        // follows the hand-out, has landed); resuming past it works too.
        await server.CheckpointLeasesAsync();
        var again = (await client.GetReplyAsync($"{Api}/events?since=1&limit=1000")).Expect(HttpStatusCode.OK);
        Assert.Contains("command.delivered", again.Body, StringComparison.Ordinal);
    }

    private static async Task<int> EventCountAsync(HttpClient client) =>
        (await client.GetReplyAsync($"{Api}/events?since=0&limit=1000")).Expect(HttpStatusCode.OK).Json.GetProperty("items").GetArrayLength();
}
