using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http;
using SessionMesh.Client;
using SessionMesh.Contracts;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Client;

public sealed class StreamAndAgentTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static SessionMeshClient NewClient(Uri server) => new(new SessionMeshClientOptions
    {
        Server = server,
        SessionKey = "agent-key-0123456789",
        RetryBaseDelay = TimeSpan.FromMilliseconds(5),
    });

    [Fact]
    public async Task A_dropped_event_stream_is_resumed_after_the_last_revision_without_loss_or_repeat()
    {
        var readTwo = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await StubServer.StartAsync(async (context, n) =>
        {
            if (n == 1)
            {
                await StubServer.SseAsync(context, Samples.EventFrame(1), Samples.EventFrame(2));
                // Drop the connection mid-stream, once the client has read what was sent (an abort discards unread bytes).
                await readTwo.Task;
                context.Abort();
                return;
            }
            // The resumed stream repeats revision 2 (at-least-once) before the new one.
            await StubServer.SseAsync(context, Samples.EventFrame(2), Samples.EventFrame(3, "session.left"));
            await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
        });
        using var client = NewClient(server.BaseAddress);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TestTimeouts.Event);

        var seen = new List<(long, string)>();
        await foreach (var item in client.WatchEventsAsync(since: null, timeout.Token))
        {
            seen.Add((item.Revision, item.Type));
            if (item.Revision == 2)
            {
                readTwo.TrySetResult();
            }
            if (seen.Count == 3)
            {
                break;
            }
        }

        Assert.Equal([(1L, "session.joined"), (2L, "session.joined"), (3L, "session.left")], seen);
        var requests = server.Requests.ToArray();
        Assert.Equal("/api/session-mesh/events", requests[0].PathAndQuery);
        Assert.Equal("text/event-stream", requests[0].Header("Accept"));
        Assert.Equal("/api/session-mesh/events?since=2", requests[1].PathAndQuery);
        Assert.Equal("2", requests[1].Header("Last-Event-ID"));
    }

    [Fact]
    public async Task A_compacted_revision_surfaces_as_a_410_with_its_code()
    {
        await using var server = await StubServer.StartAsync((context, _) => StubServer.Problem(context, 410, "revision_compacted", "Revision 1 is gone."));
        using var client = NewClient(server.BaseAddress);

        var ex = await Assert.ThrowsAsync<SessionMeshException>(async () =>
        {
            await foreach (var _ in client.WatchEventsAsync(1, Ct))
            {
            }
        });

        Assert.Equal("revision_compacted", ex.Code);
        Assert.True(ex.IsGone);
    }

    [Fact]
    public async Task The_agent_helper_resumes_its_command_stream_drops_duplicates_and_ends_on_kill()
    {
        var acks = new ConcurrentQueue<string>();
        var lastEventIds = new ConcurrentQueue<string>();
        var readTwo = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await StubServer.StartAsync(async (context, _) =>
        {
            var path = context.Request.Path.Value!;
            switch (context.Request.Method, path)
            {
                case ("POST", "/api/session-mesh/sessions"):
                    await StubServer.Json(context, 201, Samples.Session("s1", ttl: 3600));
                    return;
                case ("GET", "/api/session-mesh/agents/a1/commands"):
                    lastEventIds.Enqueue(context.Request.Headers["Last-Event-ID"].ToString());
                    if (lastEventIds.Count == 1)
                    {
                        await StubServer.SseAsync(context, Samples.CommandFrame(1), Samples.CommandFrame(2));
                        await readTwo.Task;
                        context.Abort();
                        return;
                    }
                    await StubServer.SseAsync(context, Samples.CommandFrame(2), Samples.CommandFrame(3), Samples.CommandFrame(4, "kill"));
                    await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
                    return;
                case ("POST", _) when path.EndsWith("/ack", StringComparison.Ordinal):
                    acks.Enqueue(path);
                    await StubServer.Json(context, 200, Samples.Command(1, status: "acked"));
                    return;
                case ("DELETE", "/api/session-mesh/sessions/s1"):
                    await StubServer.Json(context, 200, Samples.Session("s1", status: "left"));
                    return;
                default:
                    await StubServer.Problem(context, 404, "route_not_found", path);
                    return;
            }
        });
        using var client = NewClient(server.BaseAddress);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TestTimeouts.Event);

        await using var agent = await MeshAgent.JoinAsync(client, new MeshAgentOptions { AgentId = "a1", Ttl = 3600 }, timeout.Token);
        var received = new List<long>();
        await foreach (var command in agent.ReadCommandsAsync(timeout.Token))
        {
            received.Add(command.Sequence);
            await agent.AckAsync(command, cancellationToken: timeout.Token);
            if (command.Sequence == 2)
            {
                readTwo.TrySetResult();
            }
        }

        Assert.Equal([1L, 2L, 3L], received);
        Assert.Equal(["", "2"], lastEventIds);
        Assert.True(agent.Killed.IsCancellationRequested);
        Assert.Equal("c4", agent.KillCommand?.CommandId);
        Assert.Equal(
            ["/api/session-mesh/agents/a1/commands/c1/ack", "/api/session-mesh/agents/a1/commands/c2/ack", "/api/session-mesh/agents/a1/commands/c3/ack", "/api/session-mesh/agents/a1/commands/c4/ack"],
            acks);
    }

    [Fact]
    public async Task A_410_on_heartbeat_rejoins_when_the_session_expired()
    {
        var joins = 0;
        await using var server = await StubServer.StartAsync((context, _) =>
        {
            var path = context.Request.Path.Value!;
            return (context.Request.Method, path) switch
            {
                ("POST", "/api/session-mesh/sessions") => StubServer.Json(context, 201, Samples.Session($"s{Interlocked.Increment(ref joins)}", ttl: 3600)),
                ("POST", "/api/session-mesh/sessions/s1/heartbeat") => StubServer.Problem(context, 410, "session_ended", "The session has ended."),
                ("GET", "/api/session-mesh/sessions/s1") => StubServer.Json(context, 200, Samples.Session("s1", status: "expired")),
                ("POST", "/api/session-mesh/sessions/s2/heartbeat") => StubServer.Json(context, 200, Samples.Heartbeat("s2")),
                _ => StubServer.Json(context, 200, Samples.Session("s2", status: "left")),
            };
        });
        using var client = NewClient(server.BaseAddress);
        await using var agent = await MeshAgent.JoinAsync(client, new MeshAgentOptions { AgentId = "a1", Ttl = 3600 }, Ct);
        SessionView? rejoined = null;
        agent.Rejoined += (_, session) => rejoined = session;

        await agent.HeartbeatAsync(Ct);
        await agent.HeartbeatAsync(Ct);

        Assert.Equal("s2", agent.Session.SessionId);
        Assert.Equal("s2", rejoined?.SessionId);
        Assert.False(agent.Killed.IsCancellationRequested);
        Assert.Equal(2, joins);
        Assert.Contains(server.Requests, r => r.PathAndQuery == "/api/session-mesh/sessions/s2/heartbeat");
    }

    [Fact]
    public async Task A_410_on_heartbeat_after_a_kill_cancels_the_Killed_token_instead_of_rejoining()
    {
        var joins = 0;
        await using var server = await StubServer.StartAsync((context, _) => (context.Request.Method, context.Request.Path.Value) switch
        {
            ("POST", "/api/session-mesh/sessions") => StubServer.Json(context, 201, Samples.Session($"s{Interlocked.Increment(ref joins)}", ttl: 3600)),
            ("POST", "/api/session-mesh/sessions/s1/heartbeat") => StubServer.Problem(context, 410, "session_ended", "Ended."),
            ("GET", "/api/session-mesh/sessions/s1") => StubServer.Json(context, 200, Samples.Session("s1", status: "killed")),
            _ => StubServer.Problem(context, 410, "session_ended", "Ended."),
        });
        using var client = NewClient(server.BaseAddress);
        await using var agent = await MeshAgent.JoinAsync(client, new MeshAgentOptions { AgentId = "a1", Ttl = 3600 }, Ct);

        await agent.HeartbeatAsync(Ct);

        Assert.True(agent.Killed.IsCancellationRequested);
        Assert.Equal("killed", agent.EndReason);
        Assert.Equal(1, joins);
    }

    [Fact]
    public async Task The_agent_heartbeats_on_its_own_at_a_fraction_of_the_ttl()
    {
        var beat = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await StubServer.StartAsync((context, _) =>
        {
            if (context.Request.Path.Value == "/api/session-mesh/sessions/s1/heartbeat")
            {
                // Beats before the test set the load carry none; wait for one that reports it.
                if (StubServer.Body(context).Contains("load", StringComparison.Ordinal))
                {
                    beat.TrySetResult(StubServer.Body(context));
                }
                return StubServer.Json(context, 200, Samples.Heartbeat("s1"));
            }
            return StubServer.Json(context, context.Request.Method == "POST" ? 201 : 200, Samples.Session("s1", ttl: 1));
        });
        using var client = NewClient(server.BaseAddress);
        await using var agent = await MeshAgent.JoinAsync(client, new MeshAgentOptions { AgentId = "a1", Ttl = 1, HeartbeatFraction = 0.1 }, Ct);
        agent.Load = 0.5;

        var body = await beat.Task.WaitAsync(TestTimeouts.Event, Ct);

        Assert.Equal("""{"load":0.5,"status":"active"}""", body);
    }
}
