using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using SessionMesh.Server.Hosting;
using SessionMesh.Store.Sqlite;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Server;

/// <summary>
/// The server's disk: completed commands and events retained by age and size with the file shrinking back, pending
/// commands never deleted, and a full disk (a genuine SQLITE_FULL from SQLite's <c>max_page_count</c>) answered with
/// 507 <c>storage_full</c> and a failing <c>/readyz</c> until space returns, with nothing lost.
/// </summary>
public sealed class StorageTests
{
    private const string Api = "api/session-mesh";

    // Retention runs when a test says so: the sweeper's own run comes once, at start, then not for a long while.
    private const string RetentionOnlyWhenAsked = "1000.00:00:00";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The run scaled down: 300 steers of 0.9 MB with ttl 1 grew the store to 814 MB.</summary>
    [Fact]
    public async Task Expired_steers_are_kept_once_then_retained_by_age_and_the_file_shrinks_back()
    {
        const int Steers = 30;
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await MeshTestServer.StartAsync(time: time, settings: new Dictionary<string, string>
        {
            ["Mesh:EventRetentionAge"] = "01:00:00",
            ["Mesh:CommandRetentionAge"] = "01:00:00",
            ["Mesh:RetentionInterval"] = RetentionOnlyWhenAsked,
            // The run from the hardening issue: payloads of 0.9 MB, above the 64 KiB default.
            ["Mesh:MaxPayloadBytes"] = "1048576",
        });
        using var client = server.CreateClient();
        var store = (SqliteMeshStore)server.Store;
        (await client.PostReplyAsync($"{Api}/registry", """{"specialization": "s", "agent_id": "away"}""")).Expect(HttpStatusCode.Created);
        var blob = new string('x', 900_000);
        var ids = new List<string>();
        for (var i = 0; i < Steers; i++)
        {
            var steer = await client.PostReplyAsync($"{Api}/steer",
                $$$"""{"agent_id": "away", "direction": "d{{{i}}}", "ttl": 1, "queue_if_offline": true, "payload": {"blob": "{{{blob}}}"}}""");
            ids.Add(steer.Expect(HttpStatusCode.OK).Json.GetProperty("command_id").GetString()!);
        }
        time.Advance(TimeSpan.FromSeconds(2));
        await server.SweepCommandsAsync();
        Assert.Equal("expired", (await client.GetReplyAsync($"{Api}/commands/{ids[0]}")).Expect(HttpStatusCode.OK).Json.GetProperty("status").GetString());
        var afterRun = store.SizeOnDisk();
        await store.ReclaimSpaceAsync(Ct);
        var afterCheckpoint = store.SizeOnDisk();

        time.Advance(TimeSpan.FromHours(2));
        var result = await server.ApplyRetentionAsync();

        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{Steers} steers of 0.9 MB, ttl 1: {afterRun} bytes after the run ({afterCheckpoint} checkpointed), {result.BytesAfter} after retention.");
        // Each payload once (the command's row), not once more in each of its two events: well under three copies.
        Assert.InRange(afterCheckpoint, Steers * 900_000L, Steers * 900_000L * 3 / 2);
        Assert.Equal(Steers, result.CommandsDeleted);
        Assert.True(result.BytesAfter < 1_000_000, $"{result.BytesAfter} bytes after retention");
        (await client.GetReplyAsync($"{Api}/commands/{ids[0]}")).ExpectProblem(HttpStatusCode.NotFound, "command_not_found");
        (await client.GetReplyAsync($"{Api}/events?since=1")).ExpectProblem(HttpStatusCode.Gone, "revision_compacted");
    }

    [Fact]
    public async Task Retention_never_deletes_a_pending_command_however_small_the_budget()
    {
        await using var server = await MeshTestServer.StartAsync(settings: new Dictionary<string, string>
        {
            ["Mesh:EventRetentionBytes"] = "1",
            ["Mesh:CommandRetentionBytes"] = "1",
            ["Mesh:RetentionInterval"] = RetentionOnlyWhenAsked,
        });
        using var client = server.CreateClient();
        (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "live", "ttl": 600}""")).Expect(HttpStatusCode.Created);
        (await client.PostReplyAsync($"{Api}/registry", """{"specialization": "s", "agent_id": "away"}""")).Expect(HttpStatusCode.Created);
        var queued = await SteerAsync(client, "away", "wait for me", queueIfOffline: true);
        var acked = await SteerAsync(client, "live", "done soon");
        Assert.Equal(acked, (await PollAsync(client, "live"))[0]);
        (await client.PostReplyAsync($"{Api}/agents/live/commands/{acked}/ack", """{"status": "acked"}""")).Expect(HttpStatusCode.OK);
        var unacked = await SteerAsync(client, "live", "handed out, never acked");
        Assert.Equal([unacked], await PollAsync(client, "live"));

        var result = await server.ApplyRetentionAsync();

        Assert.Equal(1, result.CommandsDeleted);
        (await client.GetReplyAsync($"{Api}/commands/{acked}")).ExpectProblem(HttpStatusCode.NotFound, "command_not_found");
        var stillQueued = (await client.GetReplyAsync($"{Api}/commands/{queued}")).Expect(HttpStatusCode.OK).Json;
        Assert.Equal("queued", stillQueued.GetProperty("status").GetString());
        Assert.Equal("wait for me", stillQueued.GetProperty("payload").GetProperty("note").GetString());
        Assert.Equal([unacked], await PollAsync(client, "live"));
        (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "away"}""")).Expect(HttpStatusCode.Created);
        Assert.Equal([queued], await PollAsync(client, "away"));
    }

    [Fact]
    public async Task A_full_disk_answers_507_and_fails_readyz_until_space_returns_with_nothing_lost()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        using var anonymous = server.CreateClient("");
        var store = (SqliteMeshStore)server.Store;
        var audit = server.App.Services.GetRequiredService<AuditWriter>();
        var session = await client.JoinAsync("a");
        var before = await SteerAsync(client, "a", "before the disk filled");
        await store.ReclaimSpaceAsync(Ct);
        await store.LimitPagesAsync(0, Ct);

        var ghost = """{"agent_id": "ghost", "labels": {""" + string.Join(", ", Enumerable.Range(0, 64).Select(i => $"\"k{i}\": \"{new string('v', 256)}\"")) + "}}";
        (await client.PostReplyAsync($"{Api}/sessions", ghost)).ExpectProblem(HttpStatusCode.InsufficientStorage, "storage_full");
        var readyz = (await anonymous.GetReplyAsync("readyz")).Expect(HttpStatusCode.ServiceUnavailable).Json;
        Assert.Equal("full", readyz.GetProperty("store").GetString());
        // The refused calls' audit entries cannot be stored either once the audit table's last page is full: they are
        // logged and counted instead. Each refused call adds one, so a bounded number of them gets there.
        for (var i = 0; i < 500 && audit.Dropped == 0; i++)
        {
            (await client.PostReplyAsync($"{Api}/steer", $$$"""{"agent_id": "a", "direction": "d", "payload": {"blob": "{{{new string('x', 16_000)}}}"}}"""))
                .ExpectProblem(HttpStatusCode.InsufficientStorage, "storage_full");
            await audit.FlushAsync(Ct);
        }
        Assert.True(audit.Dropped > 0);

        await store.LimitPagesAsync(null, Ct);

        (await anonymous.GetReplyAsync("readyz")).Expect(HttpStatusCode.OK);
        (await client.PostReplyAsync($"{Api}/sessions/{session}/heartbeat", "{}")).Expect(HttpStatusCode.OK);
        var after = await SteerAsync(client, "a", "after space returned");
        Assert.Equal([before, after], await PollAsync(client, "a"));
        (await client.GetReplyAsync($"{Api}/agents/ghost")).ExpectProblem(HttpStatusCode.NotFound, "agent_not_found");
        (await client.PostReplyAsync($"{Api}/sessions", ghost)).Expect(HttpStatusCode.Created);
        var alive = (await client.GetReplyAsync($"{Api}/alive")).Expect(HttpStatusCode.OK).Json.GetProperty("items");
        Assert.Equal(["a", "ghost"], alive.EnumerateArray().Select(s => s.GetProperty("agent_id").GetString()).Order());
    }

    private static async Task<string> SteerAsync(HttpClient client, string agentId, string note, bool queueIfOffline = false)
    {
        var reply = await client.PostReplyAsync($"{Api}/steer",
            $$$"""{"agent_id": "{{{agentId}}}", "direction": "go", "queue_if_offline": {{{(queueIfOffline ? "true" : "false")}}}, "payload": {"note": "{{{note}}}"}}""");
        return reply.Expect(HttpStatusCode.OK).Json.GetProperty("command_id").GetString()!;
    }

    /// <summary>The ids of the commands one long poll hands the agent.</summary>
    private static async Task<string[]> PollAsync(HttpClient client, string agentId)
    {
        var items = (await client.GetReplyAsync($"{Api}/agents/{agentId}/commands?wait=0")).Expect(HttpStatusCode.OK).Json.GetProperty("items");
        return [.. items.EnumerateArray().Select(c => c.GetProperty("command_id").GetString()!)];
    }
}
