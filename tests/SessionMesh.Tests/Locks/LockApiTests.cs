using System.Net;
using SessionMesh.Tests.Infrastructure;
using static SessionMesh.Tests.Locks.LockTestClient;

namespace SessionMesh.Tests.Locks;

public sealed class LockApiTests
{
    [Fact]
    public async Task Acquire_is_201_then_200_for_the_holder_and_409_naming_the_holder_for_anyone_else()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        var holder = await client.JoinAsync("writer-1");
        var other = await client.JoinAsync("writer-2");

        var created = (await client.AcquireAsync("deploy", holder, """, "ttl": 60, "metadata": {"purpose": "release"}""")).Expect(HttpStatusCode.Created);
        var held = created.Json;
        Assert.Equal("deploy", held.GetProperty("name").GetString());
        Assert.Equal(holder, held.GetProperty("session_id").GetString());
        Assert.Equal("writer-1", held.GetProperty("agent_id").GetString());
        Assert.Equal("default", held.GetProperty("cluster").GetString());
        Assert.Equal("release", held.GetProperty("metadata").GetProperty("purpose").GetString());
        Assert.Equal(held.GetProperty("acquired_at").GetDateTimeOffset().AddSeconds(60), held.GetProperty("expires_at").GetDateTimeOffset());
        Assert.Equal($"/{Api}/locks/deploy", created.Headers["Location"]);

        var again = (await client.AcquireAsync("deploy", holder)).Expect(HttpStatusCode.OK).Json;
        Assert.Equal(held.GetProperty("revision").GetInt64(), again.GetProperty("revision").GetInt64());

        var refused = (await client.AcquireAsync("deploy", other)).ExpectProblem(HttpStatusCode.Conflict, "lock_held");
        Assert.Contains(holder, refused.Json.GetProperty("detail").GetString());
        Assert.Contains("writer-1", refused.Json.GetProperty("detail").GetString());

        var read = (await client.GetReplyAsync($"{Api}/locks/deploy")).Expect(HttpStatusCode.OK).Json;
        Assert.Equal(holder, read.GetProperty("session_id").GetString());
    }

    [Fact]
    public async Task Twenty_concurrent_acquirers_get_exactly_one_201()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        var sessions = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            sessions.Add(await client.JoinAsync($"racer-{i}"));
        }

        var replies = await Task.WhenAll(sessions.Select(s => client.AcquireAsync("repo/main", s)));

        Assert.Single(replies, r => r.Status == HttpStatusCode.Created);
        Assert.Equal(19, replies.Count(r => r.Status == HttpStatusCode.Conflict && r.Code == "lock_held"));
        var winner = replies.Single(r => r.Status == HttpStatusCode.Created).Json.GetProperty("session_id").GetString();
        Assert.Equal(winner, (await client.GetReplyAsync($"{Api}/locks/repo/main")).Expect(HttpStatusCode.OK).Json.GetProperty("session_id").GetString());
        Assert.Single(await client.EventsAsync("lock.acquired"));
    }

    [Fact]
    public async Task Names_with_slashes_are_read_and_released_by_path_as_is_or_percent_encoded()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        var session = await client.JoinAsync("git-agent");
        (await client.AcquireAsync("repo/main", session)).Expect(HttpStatusCode.Created);
        (await client.AcquireAsync("repo/dev/x", session)).Expect(HttpStatusCode.Created);

        Assert.Equal("repo/main", (await client.GetReplyAsync($"{Api}/locks/repo/main")).Expect(HttpStatusCode.OK).Json.GetProperty("name").GetString());
        Assert.Equal("repo/main", (await client.GetReplyAsync($"{Api}/locks/repo%2Fmain")).Expect(HttpStatusCode.OK).Json.GetProperty("name").GetString());
        (await client.GetReplyAsync($"{Api}/locks/repo")).ExpectProblem(HttpStatusCode.NotFound, "lock_not_found");

        (await client.DeleteReplyAsync($"{Api}/locks/repo%2Fdev%2Fx")).Expect(HttpStatusCode.OK);
        (await client.DeleteReplyAsync($"{Api}/locks/repo/main")).Expect(HttpStatusCode.OK);
        (await client.GetReplyAsync($"{Api}/locks/repo/main")).ExpectProblem(HttpStatusCode.NotFound, "lock_not_found");
        (await client.DeleteReplyAsync($"{Api}/locks/repo/main")).ExpectProblem(HttpStatusCode.NotFound, "lock_not_found");
    }

    [Theory]
    [InlineData("""{"name": "", "session_id": "S"}""", "name")]
    [InlineData("""{"name": "/lead", "session_id": "S"}""", "name")]
    [InlineData("""{"name": "a//b", "session_id": "S"}""", "name")]
    [InlineData("""{"name": "a/../b", "session_id": "S"}""", "name")]
    [InlineData("""{"name": "a b", "session_id": "S"}""", "name")]
    [InlineData("""{"name": "ok"}""", "session_id")]
    [InlineData("""{"name": "ok", "session_id": "S", "ttl": 0}""", "ttl")]
    [InlineData("""{"name": "ok", "session_id": "S", "lock_delay": 61}""", "lock_delay")]
    [InlineData("""{"name": "ok", "session_id": "S", "lock_delay": -1}""", "lock_delay")]
    [InlineData("""{"name": "ok", "session_id": "S", "wait": 301}""", "wait")]
    [InlineData("""{"name": "ok", "session_id": "S", "metadata": {"bad key!": "v"}}""", "metadata.bad key!")]
    [InlineData("""{"name": "ok", "session_id": "S", "owner": "me"}""", "owner")]
    [InlineData("""{"name": "ok", "session_id": "S", "ttl": "30"}""", "ttl")]
    public async Task Bad_input_is_a_400_naming_the_field(string template, string field)
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        var session = await client.JoinAsync("a1");

        var reply = (await client.PostReplyAsync($"{Api}/locks", template.Replace("\"S\"", $"\"{session}\"", StringComparison.Ordinal)))
            .Expect(HttpStatusCode.BadRequest);

        Assert.Equal("application/problem+json", reply.ContentType);
        Assert.Equal(field, reply.Json.GetProperty("field").GetString());
    }

    [Fact]
    public async Task A_name_too_long_and_a_bad_name_in_the_path_are_400s()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        var session = await client.JoinAsync("a1");

        (await client.AcquireAsync(new string('n', 257), session)).ExpectProblem(HttpStatusCode.BadRequest, "validation_failed");
        (await client.AcquireAsync(new string('n', 256), session)).Expect(HttpStatusCode.Created);
        (await client.GetReplyAsync($"{Api}/locks/a%20b")).ExpectProblem(HttpStatusCode.BadRequest, "validation_failed");
    }

    [Fact]
    public async Task An_unknown_session_is_404_and_an_ended_one_410()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        var session = await client.JoinAsync("a1");
        (await client.DeleteReplyAsync($"{Api}/sessions/{session}")).Expect(HttpStatusCode.OK);

        (await client.AcquireAsync("x", "ses_nope")).ExpectProblem(HttpStatusCode.NotFound, "session_not_found");
        (await client.AcquireAsync("x", session)).ExpectProblem(HttpStatusCode.Gone, "session_ended");
    }

    [Fact]
    public async Task Only_the_holder_or_admin_releases_and_a_bound_key_locks_only_for_its_own_sessions()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var admin = server.CreateClient();
        var mine = await admin.JoinAsync("a1");
        var theirs = await admin.JoinAsync("b1");
        using var a1 = server.CreateClient(await admin.MintKeyAsync("""["agent", "read"]""", agentId: "a1"));
        using var b1 = server.CreateClient(await admin.MintKeyAsync("""["agent", "read"]""", agentId: "b1"));
        using var reader = server.CreateClient(await admin.MintKeyAsync("""["read"]"""));

        (await a1.AcquireAsync("shared", theirs)).ExpectProblem(HttpStatusCode.Forbidden, "agent_mismatch");
        (await reader.AcquireAsync("shared", mine)).ExpectProblem(HttpStatusCode.Forbidden, "insufficient_scope");
        (await a1.AcquireAsync("shared", mine)).Expect(HttpStatusCode.Created);
        (await a1.AcquireAsync("other", mine)).Expect(HttpStatusCode.Created);

        (await b1.DeleteReplyAsync($"{Api}/locks/shared")).ExpectProblem(HttpStatusCode.Forbidden, "agent_mismatch");
        (await reader.DeleteReplyAsync($"{Api}/locks/shared")).ExpectProblem(HttpStatusCode.Forbidden, "insufficient_scope");
        Assert.Equal(mine, (await reader.GetReplyAsync($"{Api}/locks/shared")).Expect(HttpStatusCode.OK).Json.GetProperty("session_id").GetString());

        (await a1.DeleteReplyAsync($"{Api}/locks/shared")).Expect(HttpStatusCode.OK);
        (await admin.DeleteReplyAsync($"{Api}/locks/other")).Expect(HttpStatusCode.OK);
        var released = await admin.EventsAsync("lock.released");
        Assert.Equal(["released", "released"], released.Select(e => e.GetProperty("release_reason").GetString()));
        // A voluntary release sets no lock-delay: another session takes it at once.
        (await b1.AcquireAsync("shared", theirs)).Expect(HttpStatusCode.Created);
    }

    [Fact]
    public async Task Locks_are_cluster_scoped_and_invisible_to_other_clusters()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var admin = server.CreateClient();
        using var red = server.CreateClient(await admin.MintKeyAsync("""["agent", "read"]""", cluster: "red"));
        using var blue = server.CreateClient(await admin.MintKeyAsync("""["agent", "read"]""", cluster: "blue"));
        var redSession = await red.JoinAsync("r1");
        var blueSession = await blue.JoinAsync("b1");

        (await red.AcquireAsync("printer", redSession)).Expect(HttpStatusCode.Created);
        // The same name in another cluster is another lock.
        (await blue.AcquireAsync("printer", blueSession)).Expect(HttpStatusCode.Created);
        (await blue.AcquireAsync("scanner", redSession)).ExpectProblem(HttpStatusCode.NotFound, "session_not_found");

        (await red.AcquireAsync("scanner", redSession)).Expect(HttpStatusCode.Created);
        (await blue.GetReplyAsync($"{Api}/locks/scanner")).ExpectProblem(HttpStatusCode.NotFound, "lock_not_found");
        (await blue.DeleteReplyAsync($"{Api}/locks/scanner")).ExpectProblem(HttpStatusCode.NotFound, "lock_not_found");
        (await blue.GetReplyAsync($"{Api}/locks?cluster=red")).ExpectProblem(HttpStatusCode.NotFound, "cluster_not_found");
        var blueLocks = (await blue.GetReplyAsync($"{Api}/locks")).Expect(HttpStatusCode.OK).Json.GetProperty("items");
        Assert.Equal(["printer"], blueLocks.EnumerateArray().Select(l => l.GetProperty("name").GetString()));
        Assert.Equal(blueSession, blueLocks[0].GetProperty("session_id").GetString());
        Assert.DoesNotContain(await blue.EventsAsync("lock.acquired"), e => e.GetProperty("cluster").GetString() != "blue");
        var redLocks = (await admin.GetReplyAsync($"{Api}/locks?cluster=red")).Expect(HttpStatusCode.OK).Json.GetProperty("items");
        Assert.Equal(["printer", "scanner"], redLocks.EnumerateArray().Select(l => l.GetProperty("name").GetString()));
    }

    [Fact]
    public async Task The_list_pages_by_name_with_limit_and_cursor()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        var session = await client.JoinAsync("a1");
        foreach (var name in new[] { "c", "a", "b/1", "b" })
        {
            (await client.AcquireAsync(name, session)).Expect(HttpStatusCode.Created);
        }

        var names = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = (await client.GetReplyAsync($"{Api}/locks?limit=3{(cursor is null ? "" : "&cursor=" + cursor)}")).Expect(HttpStatusCode.OK).Json;
            names.AddRange(page.GetProperty("items").EnumerateArray().Select(l => l.GetProperty("name").GetString()!));
            cursor = page.TryGetProperty("next_cursor", out var next) && next.ValueKind == System.Text.Json.JsonValueKind.String ? next.GetString() : null;
            pages++;
        }
        while (cursor is not null);

        Assert.Equal(["a", "b", "b/1", "c"], names);
        Assert.Equal(2, pages);
        (await client.GetReplyAsync($"{Api}/locks?limit=0")).ExpectProblem(HttpStatusCode.BadRequest, "validation_failed");
    }

    [Fact]
    public async Task Acquire_and_release_are_audited_with_the_key()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        var session = await client.JoinAsync("a1");
        (await client.AcquireAsync("audited", session)).Expect(HttpStatusCode.Created);
        (await client.DeleteReplyAsync($"{Api}/locks/audited")).Expect(HttpStatusCode.OK);

        var entries = (await client.GetReplyAsync($"{Api}/audit")).Expect(HttpStatusCode.OK).Json.GetProperty("items").EnumerateArray().ToList();
        Assert.Contains(entries, e => e.GetProperty("method").GetString() == "POST" && e.GetProperty("path").GetString() == $"/{Api}/locks" && e.GetProperty("status").GetInt32() == 201);
        Assert.Contains(entries, e => e.GetProperty("method").GetString() == "DELETE" && e.GetProperty("path").GetString() == $"/{Api}/locks/audited" && e.GetProperty("status").GetInt32() == 200);
    }
}
