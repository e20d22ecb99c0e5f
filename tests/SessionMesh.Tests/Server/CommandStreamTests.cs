using System.Diagnostics;
using System.Net;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Server;

public sealed class CommandStreamTests
{
    private const string Api = "api/session-mesh";

    [Fact]
    public async Task Seed_curl_steer_without_content_type_reaches_the_open_stream()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        await client.JoinAsync("123");
        await using var stream = await SseReader.OpenAsync(client, $"{Api}/agents/123/commands");

        // The seed's command, verbatim but for the host.
        var curl = new ProcessStartInfo("curl")
        {
            ArgumentList = { "-s", "-w", "\n%{http_code}", "-X", "POST", new Uri(server.BaseAddress, $"{Api}/steer").ToString(), "-H", $"Authorization: Bearer {server.RootKey}", "-d", """{"agent_id": "123", "direction": "north"}""" },
            RedirectStandardOutput = true,
        };
        using var process = Process.Start(curl)!;
        var output = await process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);

        Assert.EndsWith("\n200", output, StringComparison.Ordinal);
        var frame = await stream.NextOfTypeAsync("command");
        Assert.Equal("north", frame.Json.GetProperty("direction").GetString());
        Assert.Equal("steer", frame.Json.GetProperty("kind").GetString());
        Assert.Contains("\"status\":\"delivered\"", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Command_frame_has_exact_wire_format()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        await client.JoinAsync("wire");
        var command = (await client.PostReplyAsync($"{Api}/steer", """{"agent_id": "wire", "direction": "west"}""")).Expect(HttpStatusCode.OK).Json;
        await using var stream = await SseReader.OpenAsync(client, $"{Api}/agents/wire/commands");

        var frame = await stream.NextOfTypeAsync("command");

        var view = (await client.GetReplyAsync($"{Api}/commands/{command.GetProperty("command_id").GetString()}")).Expect(HttpStatusCode.OK).Body;
        Assert.Equal($"event: command\ndata: {view}\nid: 1\n\n", frame.Raw);
        Assert.True(stream.Response.Headers.CacheControl?.NoCache);
    }

    [Fact]
    public async Task Many_steers_arrive_in_order_once_each()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        await client.JoinAsync("ordered");
        await using var stream = await SseReader.OpenAsync(client, $"{Api}/agents/ordered/commands");

        for (var i = 1; i <= 50; i++)
        {
            (await client.PostReplyAsync($"{Api}/steer", $$"""{"agent_id": "ordered", "direction": "step {{i}}"}""")).Expect(HttpStatusCode.OK);
        }

        var seen = new List<string>();
        while (seen.Count < 50)
        {
            var frame = await stream.NextOfTypeAsync("command");
            seen.Add(frame.Json.GetProperty("direction").GetString()!);
            Assert.Equal(seen.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), frame.Id);
        }
        Assert.Equal(Enumerable.Range(1, 50).Select(i => $"step {i}"), seen);
    }

    [Fact]
    public async Task Idempotency_key_retry_yields_one_command()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        await client.JoinAsync("idem");

        var ids = new List<string?>();
        for (var i = 0; i < 3; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"{Api}/steer") { Content = Http.Json("""{"agent_id": "idem", "direction": "once"}""") };
            request.Headers.Add("Idempotency-Key", "retry-42");
            using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
            ids.Add((await Reply.ReadAsync(response)).Expect(HttpStatusCode.OK).Json.GetProperty("command_id").GetString());
        }

        Assert.Single(ids.Distinct());
        var pending = (await client.GetReplyAsync($"{Api}/agents/idem/commands")).Expect(HttpStatusCode.OK).Json.GetProperty("items");
        Assert.Equal(1, pending.GetArrayLength());
    }

    [Fact]
    public async Task Resume_after_a_dropped_stream_loses_and_repeats_nothing()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        await client.JoinAsync("resumer");
        for (var i = 1; i <= 3; i++)
        {
            (await client.PostReplyAsync($"{Api}/steer", $$"""{"agent_id": "resumer", "direction": "d{{i}}"}""")).Expect(HttpStatusCode.OK);
        }
        string lastId;
        await using (var first = await SseReader.OpenAsync(client, $"{Api}/agents/resumer/commands"))
        {
            Assert.Equal("d1", (await first.NextOfTypeAsync("command")).Json.GetProperty("direction").GetString());
            lastId = (await first.NextOfTypeAsync("command")).Id!;
        }
        // While disconnected, more directives arrive.
        (await client.PostReplyAsync($"{Api}/steer", """{"agent_id": "resumer", "direction": "d4"}""")).Expect(HttpStatusCode.OK);

        await using var second = await SseReader.OpenAsync(client, $"{Api}/agents/resumer/commands", lastEventId: lastId);

        Assert.Equal("d3", (await second.NextOfTypeAsync("command")).Json.GetProperty("direction").GetString());
        Assert.Equal("d4", (await second.NextOfTypeAsync("command")).Json.GetProperty("direction").GetString());
    }

    [Fact]
    public async Task Unacked_commands_are_delivered_again_to_a_fresh_stream_and_acks_complete_them()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        await client.JoinAsync("acker");
        var id = (await client.PostReplyAsync($"{Api}/steer", """{"agent_id": "acker", "direction": "go"}""")).Json.GetProperty("command_id").GetString();
        await using (var first = await SseReader.OpenAsync(client, $"{Api}/agents/acker/commands"))
        {
            await first.NextOfTypeAsync("command");
        }
        Assert.Equal("delivered", (await client.GetReplyAsync($"{Api}/commands/{id}")).Json.GetProperty("status").GetString());

        await using var again = await SseReader.OpenAsync(client, $"{Api}/agents/acker/commands");
        Assert.Equal(id, (await again.NextOfTypeAsync("command")).Json.GetProperty("command_id").GetString());

        var acked = (await client.PostReplyAsync($"{Api}/agents/acker/commands/{id}/ack", """{"status": "acked", "result": {"heading": "north"}}""")).Expect(HttpStatusCode.OK).Json;
        Assert.Equal("acked", acked.GetProperty("status").GetString());
        Assert.Equal("north", acked.GetProperty("result").GetProperty("heading").GetString());
        (await client.PostReplyAsync($"{Api}/agents/acker/commands/{id}/ack", """{"status": "acked"}""")).Expect(HttpStatusCode.OK);
        (await client.PostReplyAsync($"{Api}/agents/acker/commands/{id}/ack", """{"status": "failed"}""")).ExpectProblem(HttpStatusCode.Conflict, "command_completed");
        (await client.PostReplyAsync($"{Api}/agents/acker/commands/cmd_nope/ack", """{"status": "acked"}""")).ExpectProblem(HttpStatusCode.NotFound, "command_not_found");
        Assert.Equal(0, (await client.GetReplyAsync($"{Api}/agents/acker/commands")).Json.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task A_vanished_agent_does_not_hold_up_another()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        await client.JoinAsync("gone");
        await client.JoinAsync("busy");
        // "gone" opens its stream and never reads it; its socket buffers fill with directives.
        var stuck = await SseReader.OpenAsync(client, $"{Api}/agents/gone/commands");
        await using var busy = await SseReader.OpenAsync(client, $"{Api}/agents/busy/commands");
        var big = new string('x', 3900);
        for (var i = 0; i < 200; i++)
        {
            (await client.PostReplyAsync($"{Api}/steer", $$"""{"agent_id": "gone", "direction": "{{big}}"}""")).Expect(HttpStatusCode.OK);
        }

        (await client.PostReplyAsync($"{Api}/steer", """{"agent_id": "busy", "direction": "now"}""")).Expect(HttpStatusCode.OK);

        Assert.Equal("now", (await busy.NextOfTypeAsync("command")).Json.GetProperty("direction").GetString());
        await stuck.DisposeAsync();
    }

    [Fact]
    public async Task Long_poll_waits_for_the_next_command()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        await client.JoinAsync("poller");

        var poll = client.GetReplyAsync($"{Api}/agents/poller/commands?wait=30");
        (await client.PostReplyAsync($"{Api}/steer", """{"agent_id": "poller", "direction": "south"}""")).Expect(HttpStatusCode.OK);

        var page = (await poll).Expect(HttpStatusCode.OK).Json;
        var items = page.GetProperty("items");
        Assert.Equal("south", items[0].GetProperty("direction").GetString());
        Assert.Equal("delivered", items[0].GetProperty("status").GetString());

        // The next poll from the returned cursor waits for what comes after.
        var cursor = page.GetProperty("next_cursor").GetString();
        var next = client.GetReplyAsync($"{Api}/agents/poller/commands?wait=30&cursor={cursor}");
        (await client.PostReplyAsync($"{Api}/steer", """{"agent_id": "poller", "direction": "west"}""")).Expect(HttpStatusCode.OK);
        var later = (await next).Expect(HttpStatusCode.OK).Json.GetProperty("items");
        Assert.Equal(["west"], later.EnumerateArray().Select(c => c.GetProperty("direction").GetString()));
    }

    [Fact]
    public async Task Steer_validation_and_liveness_rules()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        (await client.PostReplyAsync($"{Api}/registry", """{"specialization": "s", "agent_id": "offline"}""")).Expect(HttpStatusCode.Created);

        (await client.PostReplyAsync($"{Api}/steer", """{"agent_id": "ghost", "direction": "east"}""")).ExpectProblem(HttpStatusCode.NotFound, "agent_not_found");
        (await client.PostReplyAsync($"{Api}/steer", """{"agent_id": "offline", "direction": "east"}""")).ExpectProblem(HttpStatusCode.Conflict, "agent_not_alive");
        var queued = (await client.PostReplyAsync($"{Api}/steer", """{"agent_id": "offline", "direction": "east", "queue_if_offline": true}""")).Expect(HttpStatusCode.OK).Json;
        Assert.Equal("queued", queued.GetProperty("status").GetString());
        Assert.Equal("direction", (await client.PostReplyAsync($"{Api}/steer", """{"agent_id": "offline", "direction": ""}""")).ExpectProblem(HttpStatusCode.BadRequest, "validation_failed").Json.GetProperty("field").GetString());
        Assert.Equal("direction", (await client.PostReplyAsync($"{Api}/steer", $$"""{"agent_id": "offline", "direction": "{{new string('a', 4001)}}"}""")).ExpectProblem(HttpStatusCode.BadRequest, "validation_failed").Json.GetProperty("field").GetString());
        Assert.Equal("mode", (await client.PostReplyAsync($"{Api}/steer", """{"agent_id": "offline", "direction": "x", "mode": "shout"}""")).ExpectProblem(HttpStatusCode.BadRequest, "validation_failed").Json.GetProperty("field").GetString());
        var full = (await client.PostReplyAsync($"{Api}/steer", """{"agent_id": "offline", "direction": "x", "mode": "interrupt", "payload": {"lat": 1.5, "tags": ["a"]}, "ttl": 60, "queue_if_offline": true}""")).Expect(HttpStatusCode.OK).Json;
        Assert.Equal("interrupt", full.GetProperty("mode").GetString());
        Assert.Equal(1.5, full.GetProperty("payload").GetProperty("lat").GetDouble());
    }

    [Fact]
    public async Task Steering_an_agent_that_is_gone_names_its_last_status_and_when()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        (await client.PostReplyAsync($"{Api}/registry", """{"specialization": "s", "agent_id": "declared"}""")).Expect(HttpStatusCode.Created);
        await client.JoinAsync("gone");
        var killedAt = (await client.DeleteReplyAsync($"{Api}/agents/gone?force=true")).Expect(HttpStatusCode.OK);
        var session = (await client.GetReplyAsync($"{Api}/alive?filter=ended&agent_id=gone")).Expect(HttpStatusCode.OK).Json.GetProperty("items")[0];
        var endedAt = session.GetProperty("ended_at").GetString();

        var detail = (await client.PostReplyAsync($"{Api}/steer", """{"agent_id": "gone", "direction": "east"}""")).ExpectProblem(HttpStatusCode.Conflict, "agent_not_alive").Json.GetProperty("detail").GetString();
        Assert.Contains($"(killed at {endedAt})", detail, StringComparison.Ordinal);
        var neverJoined = (await client.PostReplyAsync($"{Api}/steer", """{"agent_id": "declared", "direction": "east"}""")).ExpectProblem(HttpStatusCode.Conflict, "agent_not_alive").Json.GetProperty("detail").GetString();
        Assert.Contains("(never joined)", neverJoined, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Messages_are_delivered_like_steers()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        await client.JoinAsync("reader");
        await using var stream = await SseReader.OpenAsync(client, $"{Api}/agents/reader/commands");

        (await client.PostReplyAsync($"{Api}/agents/reader/messages", """{"text": "hello", "from": "planner"}""")).Expect(HttpStatusCode.OK);

        var frame = await stream.NextOfTypeAsync("command");
        Assert.Equal("message", frame.Json.GetProperty("kind").GetString());
        Assert.Equal("hello", frame.Json.GetProperty("text").GetString());
        Assert.Equal("planner", frame.Json.GetProperty("from").GetString());

        var bound = (await client.PostReplyAsync($"{Api}/keys", """{"scopes": ["agent"], "agent_id": "planner"}""")).Json.GetProperty("session_key").GetString();
        using var planner = server.CreateClient(bound);
        var forged = (await planner.PostReplyAsync($"{Api}/agents/reader/messages", """{"text": "hi", "from": "someone-else"}""")).ExpectProblem(HttpStatusCode.Forbidden, "agent_mismatch");
        Assert.Equal("from", forged.Json.GetProperty("field").GetString());
        (await planner.PostReplyAsync($"{Api}/agents/reader/messages", """{"text": "hi"}""")).Expect(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_superseding_join_closes_the_old_stream_with_an_end_frame()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        await client.JoinAsync("twice");
        await using var stream = await SseReader.OpenAsync(client, $"{Api}/agents/twice/commands");

        await client.JoinAsync("twice");

        var end = await stream.NextOfTypeAsync("end");
        Assert.Equal("superseded", end.Json.GetProperty("status").GetString());
        Assert.Null(await stream.NextAsync());
    }

    [Fact]
    public async Task Shutdown_closes_open_streams_instead_of_waiting_for_them()
    {
        // A shutdown timeout far longer than the test's patience: only closing the streams lets StopAsync finish in time.
        var server = await MeshTestServer.StartAsync(settings: new Dictionary<string, string> { ["Server:ShutdownTimeout"] = "00:05:00" });
        using var client = server.CreateClient();
        await client.JoinAsync("streamer");
        var commands = await SseReader.OpenAsync(client, $"{Api}/agents/streamer/commands");
        var events = await SseReader.OpenAsync(client, $"{Api}/events");

        await server.App.StopAsync(TestContext.Current.CancellationToken).WaitAsync(TestTimeouts.Event, TestContext.Current.CancellationToken);

        await commands.DisposeAsync();
        await events.DisposeAsync();
        await server.DisposeAsync();
    }
}
