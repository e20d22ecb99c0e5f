using System.Net;
using Microsoft.Extensions.Time.Testing;
using SessionMesh.Tests.Infrastructure;
using static SessionMesh.Tests.Locks.LockTestClient;

namespace SessionMesh.Tests.Locks;

/// <summary>lock_delay after a holder's session ended, and waiting for a held lock.</summary>
public sealed class LockDelayAndWaitTests
{
    [Fact]
    public async Task After_the_holders_session_ends_the_lock_delay_keeps_the_lock_until_it_passes()
    {
        // Whole seconds: the store keeps milliseconds.
        var time = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
        await using var server = await MeshTestServer.StartAsync(time: time);
        using var client = server.CreateClient();
        var holder = (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "old", "ttl": 3600}""")).Expect(HttpStatusCode.Created).Json.GetProperty("session_id").GetString()!;
        var next = (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "new", "ttl": 3600}""")).Expect(HttpStatusCode.Created).Json.GetProperty("session_id").GetString()!;
        (await client.AcquireAsync("device-7", holder, """, "lock_delay": 10""")).Expect(HttpStatusCode.Created);

        (await client.DeleteReplyAsync($"{Api}/agents/old?force=true")).Expect(HttpStatusCode.OK);
        var endedAt = time.GetUtcNow();

        var refused = (await client.AcquireAsync("device-7", next)).ExpectProblem(HttpStatusCode.Conflict, "lock_delay");
        var until = endedAt.AddSeconds(10).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains(until, refused.Json.GetProperty("detail").GetString());
        var released = Assert.Single(await client.EventsAsync("lock.released"));
        Assert.Equal(endedAt.AddSeconds(10), released.GetProperty("delayed_until").GetDateTimeOffset());
        (await client.GetReplyAsync($"{Api}/locks/device-7")).ExpectProblem(HttpStatusCode.NotFound, "lock_not_found");

        time.Advance(TimeSpan.FromSeconds(9.999));
        (await client.AcquireAsync("device-7", next)).ExpectProblem(HttpStatusCode.Conflict, "lock_delay");
        time.Advance(TimeSpan.FromMilliseconds(1));
        (await client.AcquireAsync("device-7", next)).Expect(HttpStatusCode.Created);
    }

    [Fact]
    public async Task A_voluntary_release_has_no_lock_delay_and_a_sweep_drops_ended_delays()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await MeshTestServer.StartAsync(time: time);
        using var client = server.CreateClient();
        var first = (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "a1", "ttl": 3600}""")).Expect(HttpStatusCode.Created).Json.GetProperty("session_id").GetString()!;
        var second = (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "a2", "ttl": 3600}""")).Expect(HttpStatusCode.Created).Json.GetProperty("session_id").GetString()!;
        (await client.AcquireAsync("polite", first, """, "lock_delay": 60""")).Expect(HttpStatusCode.Created);
        (await client.AcquireAsync("dying", first, """, "lock_delay": 5""")).Expect(HttpStatusCode.Created);

        (await client.DeleteReplyAsync($"{Api}/locks/polite")).Expect(HttpStatusCode.OK);
        (await client.AcquireAsync("polite", second)).Expect(HttpStatusCode.Created);

        (await client.DeleteReplyAsync($"{Api}/sessions/{first}")).Expect(HttpStatusCode.OK);
        Assert.NotNull(await server.Store.GetLockAsync("default", "dying", TestContext.Current.CancellationToken));
        time.Advance(TimeSpan.FromSeconds(5));
        await server.SweepLocksAsync();
        Assert.Null(await server.Store.GetLockAsync("default", "dying", TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_waiting_acquire_gets_the_lock_when_the_holder_releases_it()
    {
        // On a fake clock that never moves, only the release's wake-up can end the wait.
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var install = CountingMeshStore.Install(out var store);
        await using var server = await MeshTestServer.StartAsync(time: time, configure: install);
        using var client = server.CreateClient();
        var holder = (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "a1", "ttl": 3600}""")).Expect(HttpStatusCode.Created).Json.GetProperty("session_id").GetString()!;
        var waiter = (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "a2", "ttl": 3600}""")).Expect(HttpStatusCode.Created).Json.GetProperty("session_id").GetString()!;
        (await client.AcquireAsync("queue", holder)).Expect(HttpStatusCode.Created);
        var writes = store.Calls("BeginWriteAsync");

        var waiting = client.AcquireAsync("queue", waiter, """, "wait": 120""");
        // Its first try (a write that finds the lock held) has begun; the release below queues behind it.
        await EventuallyAsync(() => store.Calls("BeginWriteAsync") > writes);
        Assert.False(waiting.IsCompleted);
        (await client.DeleteReplyAsync($"{Api}/locks/queue")).Expect(HttpStatusCode.OK);

        var got = (await waiting.WaitAsync(TestTimeouts.Request, TestContext.Current.CancellationToken)).Expect(HttpStatusCode.Created).Json;
        Assert.Equal(waiter, got.GetProperty("session_id").GetString());
    }

    [Fact]
    public async Task A_wait_that_ends_before_the_lock_is_free_is_a_409()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        var holder = await client.JoinAsync("a1");
        var waiter = await client.JoinAsync("a2");
        (await client.AcquireAsync("busy", holder)).Expect(HttpStatusCode.Created);
        var started = DateTimeOffset.UtcNow;

        (await client.AcquireAsync("busy", waiter, """, "wait": 1""")).ExpectProblem(HttpStatusCode.Conflict, "lock_held");

        Assert.True(DateTimeOffset.UtcNow - started >= TimeSpan.FromSeconds(0.9), "The acquire answered before its wait ended.");
    }

    [Fact]
    public async Task A_waiter_whose_session_ends_meanwhile_gets_410()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var install = CountingMeshStore.Install(out var store);
        await using var server = await MeshTestServer.StartAsync(time: time, configure: install);
        using var client = server.CreateClient();
        var holder = (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "a1", "ttl": 3600}""")).Expect(HttpStatusCode.Created).Json.GetProperty("session_id").GetString()!;
        var waiter = (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "a2", "ttl": 3600}""")).Expect(HttpStatusCode.Created).Json.GetProperty("session_id").GetString()!;
        (await client.AcquireAsync("busy", holder)).Expect(HttpStatusCode.Created);
        var writes = store.Calls("BeginWriteAsync");

        var waiting = client.AcquireAsync("busy", waiter, """, "wait": 120""");
        await EventuallyAsync(() => store.Calls("BeginWriteAsync") > writes);
        (await client.DeleteReplyAsync($"{Api}/sessions/{waiter}")).Expect(HttpStatusCode.OK);
        // The waiter's own session ending wakes nobody on the lock: its re-check (every 2 s) finds it.
        time.Advance(TimeSpan.FromSeconds(2));

        (await waiting.WaitAsync(TestTimeouts.Request, TestContext.Current.CancellationToken)).ExpectProblem(HttpStatusCode.Gone, "session_ended");
    }

    [Fact]
    public async Task A_client_that_disconnects_while_waiting_stops_waiting_and_takes_nothing()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var install = CountingMeshStore.Install(out var store);
        await using var server = await MeshTestServer.StartAsync(time: time, configure: install);
        using var client = server.CreateClient();
        var holder = (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "a1", "ttl": 3600}""")).Expect(HttpStatusCode.Created).Json.GetProperty("session_id").GetString()!;
        var waiter = (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "a2", "ttl": 3600}""")).Expect(HttpStatusCode.Created).Json.GetProperty("session_id").GetString()!;
        (await client.AcquireAsync("queue", holder)).Expect(HttpStatusCode.Created);
        var writes = store.Calls("BeginWriteAsync");
        using var disconnect = new CancellationTokenSource();

        var waiting = client.PostAsync($"{Api}/locks", Http.Json($$"""{"name": "queue", "session_id": "{{waiter}}", "wait": 120}"""), disconnect.Token);
        await EventuallyAsync(() => store.Calls("BeginWriteAsync") > writes);
        await disconnect.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        // The server saw it go: the call is audited as closed by the client once its handler has returned.
        using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken))
        {
            deadline.CancelAfter(TestTimeouts.Event);
            while (!(await client.GetReplyAsync($"{Api}/audit")).Json.GetProperty("items").EnumerateArray()
                .Any(e => e.GetProperty("path").GetString() == $"/{Api}/locks" && e.GetProperty("status").GetInt32() == 499))
            {
                deadline.Token.ThrowIfCancellationRequested();
            }
        }
        (await client.DeleteReplyAsync($"{Api}/locks/queue")).Expect(HttpStatusCode.OK);

        (await client.GetReplyAsync($"{Api}/locks/queue")).ExpectProblem(HttpStatusCode.NotFound, "lock_not_found");
        Assert.Single(await client.EventsAsync("lock.acquired"));
    }

    private static async Task EventuallyAsync(Func<bool> condition)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        deadline.CancelAfter(TestTimeouts.Event);
        while (!condition())
        {
            await Task.Yield();
            deadline.Token.ThrowIfCancellationRequested();
        }
    }
}
