using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using SessionMesh.Tests.Infrastructure;
using static SessionMesh.Tests.Locks.LockTestClient;

namespace SessionMesh.Tests.Locks;

/// <summary>A lock is released when its session ends, in any way, with a <c>lock.released</c> event saying how.</summary>
public sealed class LockReleaseTests
{
    // The background sweeper runs on the fake clock too: off, so that a test's own sweep is the one that acts.
    private static readonly Dictionary<string, string> s_manualSweeps = new() { ["Mesh:SweepInterval"] = "1.00:00:00" };

    [Fact]
    public async Task Leaving_releases_the_sessions_locks()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        var session = await client.JoinAsync("a1");
        (await client.AcquireAsync("one", session)).Expect(HttpStatusCode.Created);
        (await client.AcquireAsync("two/x", session)).Expect(HttpStatusCode.Created);

        (await client.DeleteReplyAsync($"{Api}/sessions/{session}")).Expect(HttpStatusCode.OK);

        await AssertReleasedAsync(client, session, "session_left", "one", "two/x");
    }

    [Fact]
    public async Task Expiry_releases_the_lock()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await MeshTestServer.StartAsync(time: time);
        using var client = server.CreateClient();
        var session = (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "a1", "ttl": 5}""")).Expect(HttpStatusCode.Created).Json.GetProperty("session_id").GetString()!;
        (await client.AcquireAsync("gpu", session)).Expect(HttpStatusCode.Created);

        time.Advance(TimeSpan.FromSeconds(11));
        await server.SweepSessionsAsync();

        await AssertReleasedAsync(client, session, "session_expired", "gpu");
    }

    [Fact]
    public async Task A_force_kill_and_a_cascade_kill_release_the_locks_of_every_agent_killed()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        var parent = await client.JoinAsync("boss");
        var child = await client.JoinAsync("worker", parentId: "boss");
        (await client.AcquireAsync("parent-lock", parent)).Expect(HttpStatusCode.Created);
        (await client.AcquireAsync("child-lock", child)).Expect(HttpStatusCode.Created);

        (await client.DeleteReplyAsync($"{Api}/agents/boss?force=true")).Expect(HttpStatusCode.OK);

        await AssertReleasedAsync(client, parent, "session_killed", "parent-lock");
        await AssertReleasedAsync(client, child, "session_killed", "child-lock");
    }

    [Fact]
    public async Task A_rejoin_supersedes_the_session_and_releases_its_lock()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        var first = await client.JoinAsync("a1");
        (await client.AcquireAsync("branch", first)).Expect(HttpStatusCode.Created);

        var second = await client.JoinAsync("a1");

        await AssertReleasedAsync(client, first, "session_superseded", "branch");
        // The new session of the same agent is a new holder: it takes the lock afresh.
        (await client.AcquireAsync("branch", second)).Expect(HttpStatusCode.Created);
    }

    [Fact]
    public async Task A_max_runtime_kill_releases_the_lock_with_the_end_reason()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await MeshTestServer.StartAsync(time: time);
        using var client = server.CreateClient();
        var session = (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "timed", "max_runtime": 60, "ttl": 3600}""")).Expect(HttpStatusCode.Created).Json.GetProperty("session_id").GetString()!;
        (await client.AcquireAsync("slot", session)).Expect(HttpStatusCode.Created);

        time.Advance(TimeSpan.FromSeconds(60));
        await server.SweepCommandsAsync();
        (await client.GetReplyAsync($"{Api}/locks/slot")).Expect(HttpStatusCode.OK);
        time.Advance(TimeSpan.FromSeconds(10));
        await server.SweepCommandsAsync();

        var released = await AssertReleasedAsync(client, session, "session_killed", "slot");
        Assert.StartsWith("max_runtime_exceeded", released[0].GetProperty("session_end_reason").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_lock_ttl_releases_it_on_the_sweep_while_the_session_lives_on()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await MeshTestServer.StartAsync(time: time, settings: s_manualSweeps);
        using var client = server.CreateClient();
        var session = (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "a1", "ttl": 3600}""")).Expect(HttpStatusCode.Created).Json.GetProperty("session_id").GetString()!;
        var other = (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "a2", "ttl": 3600}""")).Expect(HttpStatusCode.Created).Json.GetProperty("session_id").GetString()!;
        (await client.AcquireAsync("short", session, """, "ttl": 30""")).Expect(HttpStatusCode.Created);

        time.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal(0, await server.SweepLocksAsync());
        (await client.AcquireAsync("short", other)).ExpectProblem(HttpStatusCode.Conflict, "lock_held");
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, await server.SweepLocksAsync());

        await AssertReleasedAsync(client, session, "ttl_elapsed", "short");
        Assert.Equal("active", (await client.GetReplyAsync($"{Api}/sessions/{session}")).Json.GetProperty("status").GetString());
        (await client.AcquireAsync("short", other)).Expect(HttpStatusCode.Created);
    }

    [Fact]
    public async Task A_lock_past_its_ttl_is_free_to_take_before_the_sweep_runs()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await MeshTestServer.StartAsync(time: time);
        using var client = server.CreateClient();
        var session = (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "a1", "ttl": 3600}""")).Expect(HttpStatusCode.Created).Json.GetProperty("session_id").GetString()!;
        var other = (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "a2", "ttl": 3600}""")).Expect(HttpStatusCode.Created).Json.GetProperty("session_id").GetString()!;
        (await client.AcquireAsync("short", session, """, "ttl": 30""")).Expect(HttpStatusCode.Created);

        time.Advance(TimeSpan.FromSeconds(30));

        Assert.Equal(other, (await client.AcquireAsync("short", other)).Expect(HttpStatusCode.Created).Json.GetProperty("session_id").GetString());
        Assert.Equal("ttl_elapsed", Assert.Single(await client.EventsAsync("lock.released")).GetProperty("release_reason").GetString());
    }

    /// <summary>Asserts the locks are free now and each has one release event with the reason; returns those events.</summary>
    private static async Task<List<JsonElement>> AssertReleasedAsync(HttpClient client, string sessionId, string reason, params string[] names)
    {
        foreach (var name in names)
        {
            (await client.GetReplyAsync($"{Api}/locks/{name}")).ExpectProblem(HttpStatusCode.NotFound, "lock_not_found");
        }
        var released = (await client.EventsAsync("lock.released")).Where(e => e.GetProperty("session_id").GetString() == sessionId).ToList();
        Assert.Equal(names.Order(StringComparer.Ordinal), released.Select(e => e.GetProperty("name").GetString()!).Order(StringComparer.Ordinal));
        Assert.All(released, e => Assert.Equal(reason, e.GetProperty("release_reason").GetString()));
        return released;
    }
}
