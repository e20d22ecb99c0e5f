using System.Net;
using System.Text.Json;
using SessionMesh.Client;
using SessionMesh.Contracts;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Agent;

/// <summary>The per-agent output tail: appended by the wrapper, bounded by lines and bytes, read as a tail or followed as SSE.</summary>
public sealed class AgentLogsTests
{
    private const string Api = "api/session-mesh";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Batch(params string[] texts) =>
        JsonSerializer.Serialize(new LogAppendRequest { Lines = texts.Select(t => new LogLineInput { Stream = "stdout", Text = t }).ToList() }, MeshJsonContext.Default.LogAppendRequest);

    [Fact]
    public async Task The_tail_keeps_the_last_lines_within_its_line_and_byte_bounds()
    {
        await using var server = await MeshTestServer.StartAsync(settings: new Dictionary<string, string>
        {
            ["Mesh:LogTailLines"] = "5",
            ["Mesh:LogTailBytes"] = "2048",
        });
        using var http = server.CreateClient();
        await http.JoinAsync("w");

        (await http.PostReplyAsync($"{Api}/agents/w/logs", Batch([.. Enumerable.Range(1, 8).Select(i => $"line {i}")]))).Expect(HttpStatusCode.OK);
        var byLines = (await http.GetReplyAsync($"{Api}/agents/w/logs")).Expect(HttpStatusCode.OK).Json;
        Assert.Equal(["line 4", "line 5", "line 6", "line 7", "line 8"], byLines.GetProperty("items").EnumerateArray().Select(l => l.GetProperty("text").GetString()));
        Assert.Equal(3, byLines.GetProperty("evicted").GetInt64());
        var tailTwo = (await http.GetReplyAsync($"{Api}/agents/w/logs?tail=2")).Expect(HttpStatusCode.OK).Json;
        Assert.Equal(["line 7", "line 8"], tailTwo.GetProperty("items").EnumerateArray().Select(l => l.GetProperty("text").GetString()));

        // Two lines of 900 characters pass 2048 bytes with their overhead: only the last one stays.
        (await http.PostReplyAsync($"{Api}/agents/w/logs", Batch(new string('a', 900), new string('b', 900), new string('c', 900)))).Expect(HttpStatusCode.OK);
        var byBytes = (await http.GetReplyAsync($"{Api}/agents/w/logs")).Expect(HttpStatusCode.OK).Json.GetProperty("items");
        Assert.Equal(2, byBytes.GetArrayLength());
        Assert.Equal(new string('c', 900), byBytes[1].GetProperty("text").GetString());
    }

    [Fact]
    public async Task Following_streams_the_tail_then_new_lines_and_resumes_after_the_last_event_id()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var http = server.CreateClient();
        await http.JoinAsync("w");
        (await http.PostReplyAsync($"{Api}/agents/w/logs", Batch("one", "two", "three"))).Expect(HttpStatusCode.OK);

        await using (var follow = await SseReader.OpenAsync(http, $"{Api}/agents/w/logs?follow=true&tail=2"))
        {
            var two = (await follow.NextAsync())!;
            Assert.Equal("line", two.Event);
            Assert.Equal("two", two.Json.GetProperty("text").GetString());
            Assert.Equal(two.Json.GetProperty("sequence").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture), two.Id);
            Assert.Equal("three", (await follow.NextAsync())!.Json.GetProperty("text").GetString());

            (await http.PostReplyAsync($"{Api}/agents/w/logs", Batch("four"))).Expect(HttpStatusCode.OK);
            var four = (await follow.NextAsync())!;
            Assert.Equal("four", four.Json.GetProperty("text").GetString());
            Assert.Equal("stdout", four.Json.GetProperty("stream").GetString());
        }

        var tail = (await http.GetReplyAsync($"{Api}/agents/w/logs")).Json.GetProperty("items");
        var afterTwo = tail[1].GetProperty("sequence").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture);
        await using var resumed = await SseReader.OpenAsync(http, $"{Api}/agents/w/logs?follow=true", lastEventId: afterTwo);
        Assert.Equal("three", (await resumed.NextAsync())!.Json.GetProperty("text").GetString());
        Assert.Equal("four", (await resumed.NextAsync())!.Json.GetProperty("text").GetString());
    }

    [Fact]
    public async Task Reading_needs_read_in_the_cluster_appending_needs_to_act_for_the_agent_and_bad_input_names_the_field()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var root = server.CreateClient();
        await root.JoinAsync("w");
        await root.JoinAsync("other");
        var reader = await MintAsync(root, """{"scopes": ["read"]}""");
        var boundToOther = await MintAsync(root, """{"scopes": ["agent"], "agent_id": "other"}""");
        var boundToW = await MintAsync(root, """{"scopes": ["agent"], "agent_id": "w"}""");
        var elsewhere = await MintAsync(root, """{"scopes": ["read"], "cluster": "elsewhere"}""");
        using var readerHttp = server.CreateClient(reader);
        using var otherHttp = server.CreateClient(boundToOther);
        using var wHttp = server.CreateClient(boundToW);
        using var elsewhereHttp = server.CreateClient(elsewhere);

        (await wHttp.PostReplyAsync($"{Api}/agents/w/logs", Batch("mine"))).Expect(HttpStatusCode.OK);
        Assert.Equal("mine", (await readerHttp.GetReplyAsync($"{Api}/agents/w/logs")).Expect(HttpStatusCode.OK).Json.GetProperty("items")[0].GetProperty("text").GetString());
        Assert.Equal("insufficient_scope", (await readerHttp.PostReplyAsync($"{Api}/agents/w/logs", Batch("x"))).Expect(HttpStatusCode.Forbidden).Code);
        Assert.Equal("agent_mismatch", (await otherHttp.PostReplyAsync($"{Api}/agents/w/logs", Batch("x"))).Expect(HttpStatusCode.Forbidden).Code);
        Assert.Equal("insufficient_scope", (await wHttp.GetReplyAsync($"{Api}/agents/w/logs")).Expect(HttpStatusCode.Forbidden).Code);
        Assert.Equal("agent_not_found", (await elsewhereHttp.GetReplyAsync($"{Api}/agents/w/logs")).Expect(HttpStatusCode.NotFound).Code);
        Assert.Equal("agent_not_found", (await root.GetReplyAsync($"{Api}/agents/nobody/logs")).Expect(HttpStatusCode.NotFound).Code);

        var badStream = (await root.PostReplyAsync($"{Api}/agents/w/logs", """{"lines": [{"stream": "stdin", "text": "x"}]}""")).Expect(HttpStatusCode.BadRequest);
        Assert.Contains("lines[0].stream", badStream.Body, StringComparison.Ordinal);
        var noText = (await root.PostReplyAsync($"{Api}/agents/w/logs", """{"lines": [{"stream": "stdout"}]}""")).Expect(HttpStatusCode.BadRequest);
        Assert.Contains("lines[0].text", noText.Body, StringComparison.Ordinal);
        var badTail = (await root.GetReplyAsync($"{Api}/agents/w/logs?tail=-1")).Expect(HttpStatusCode.BadRequest);
        Assert.Contains("tail", badTail.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_child_printing_100000_lines_runs_through_and_the_server_keeps_only_its_bound()
    {
        await using var server = await MeshTestServer.StartAsync(settings: new Dictionary<string, string> { ["Mesh:LogTailLines"] = "1000" });
        using var temp = new TempDirectory();
        using var sdk = new SessionMeshClient(server.BaseAddress, server.RootKey);
        var script = ChildScripts.Write(temp.Path, "child.sh", ChildScripts.HundredThousandLines);
        await using var wrapper = WrapperProcess.Start(server.BaseAddress, server.RootKey, temp.Path, ["--agent-id", "w-chatty", "--", "bash", script]);

        Assert.Equal(0, await wrapper.ExitAsync(TimeSpan.FromSeconds(60)));

        var logs = await sdk.GetLogsAsync("w-chatty", 100_000, Ct);
        Assert.Equal(1000, logs.Items.Count);
        Assert.True(logs.Items[^1].Text == "line 100000" || logs.Dropped > 0, $"the last line kept is '{logs.Items[^1].Text}' with nothing dropped");
        // Every line is kept, evicted from the tail or counted as dropped: none goes unaccounted, the last ones included.
        Assert.Equal(100_000, logs.Items.Count + logs.Evicted + logs.Dropped);
        Assert.Contains("line 100000", wrapper.Output, StringComparison.Ordinal);
    }

    private static async Task<string> MintAsync(HttpClient root, string body) =>
        (await root.PostReplyAsync($"{Api}/keys", body)).Expect(HttpStatusCode.Created).Json.GetProperty("session_key").GetString()!;
}
