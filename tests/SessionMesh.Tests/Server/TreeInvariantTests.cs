using System.Net;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Server;

/// <summary>
/// The parent→child tree under kills and re-parenting: a cascade kill takes every child committed before it, no child
/// slips in under a killed parent, and only the <c>register</c> scope moves an agent out of its parent's tree.
/// </summary>
public sealed class TreeInvariantTests
{
    private const string Api = "api/session-mesh";

    private static Task<Reply> JoinReplyAsync(HttpClient client, string agentId, string parentId) =>
        client.PostReplyAsync($"{Api}/sessions", $$"""{"agent_id": "{{agentId}}", "parent_id": "{{parentId}}"}""");

    private static async Task<string> StatusAsync(HttpClient client, string sessionId) =>
        (await client.GetReplyAsync($"{Api}/sessions/{sessionId}")).Expect(HttpStatusCode.OK).Json.GetProperty("status").GetString()!;

    [Fact]
    public async Task A_join_under_a_force_killed_parent_is_refused_until_the_parent_joins_again()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var root = server.CreateClient();
        await root.JoinAsync("p");
        (await root.DeleteReplyAsync($"{Api}/agents/p?force=true")).Expect(HttpStatusCode.OK);

        (await JoinReplyAsync(root, "c", "p")).ExpectProblem(HttpStatusCode.Conflict, "parent_killed");

        // The refused join left nothing behind.
        (await root.GetReplyAsync($"{Api}/agents/c")).ExpectProblem(HttpStatusCode.NotFound, "agent_not_found");
        Assert.Empty((await root.GetReplyAsync($"{Api}/agents/p")).Expect(HttpStatusCode.OK).Json.GetProperty("children").EnumerateArray());
        // Once the parent joins again, it may have children.
        await root.JoinAsync("p");
        (await JoinReplyAsync(root, "c", "p")).Expect(HttpStatusCode.Created);
    }

    [Fact]
    public async Task A_join_under_a_parent_being_killed_gracefully_is_refused()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var root = server.CreateClient();
        await root.JoinAsync("p");
        var before = await root.JoinAsync("early", "p");
        Assert.Equal("killing", (await root.DeleteReplyAsync($"{Api}/agents/p?grace_period=30")).Expect(HttpStatusCode.OK).Json.GetProperty("status").GetString());

        (await JoinReplyAsync(root, "late", "p")).ExpectProblem(HttpStatusCode.Conflict, "parent_killed");

        (await root.GetReplyAsync($"{Api}/agents/late")).ExpectProblem(HttpStatusCode.NotFound, "agent_not_found");
        // The child committed before the kill is in it: it has a kill pending.
        var pending = (await root.GetReplyAsync($"{Api}/agents/early/commands")).Expect(HttpStatusCode.OK).Json.GetProperty("items");
        Assert.Contains(pending.EnumerateArray(), c => c.GetProperty("kind").GetString() == "kill");
        Assert.Equal("active", await StatusAsync(root, before));
    }

    [Fact]
    public async Task Children_joining_during_a_cascade_kill_are_killed_or_refused()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var root = server.CreateClient();
        await root.JoinAsync("p");
        const int Lanes = 4;
        const int PerLane = 10;
        const int KillAfter = 8;
        var completed = 0;
        var killNow = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // Each lane joins its children one after another, so joins keep arriving before, during and after the kill.
        async Task<List<(string AgentId, Reply Reply)>> LaneAsync(int lane)
        {
            var replies = new List<(string, Reply)>();
            for (var i = 0; i < PerLane; i++)
            {
                var agentId = $"c-{lane}-{i}";
                replies.Add((agentId, await JoinReplyAsync(root, agentId, "p")));
                if (Interlocked.Increment(ref completed) == KillAfter)
                {
                    killNow.TrySetResult();
                }
            }
            return replies;
        }
        var lanes = Enumerable.Range(0, Lanes).Select(LaneAsync).ToList();
        await killNow.Task.WaitAsync(TestTimeouts.Event, TestContext.Current.CancellationToken);
        var kill = (await root.DeleteReplyAsync($"{Api}/agents/p?force=true")).Expect(HttpStatusCode.OK).Json;
        var joins = (await Task.WhenAll(lanes)).SelectMany(l => l).ToList();

        var killedAgents = kill.GetProperty("killed").EnumerateArray().Select(k => k.GetProperty("agent_id").GetString()).ToHashSet();
        var admitted = 0;
        foreach (var (agentId, reply) in joins)
        {
            if (reply.Status == HttpStatusCode.Created)
            {
                admitted++;
                var sessionId = reply.Json.GetProperty("session_id").GetString()!;
                Assert.True(await StatusAsync(root, sessionId) == "killed", $"{agentId} joined under p ({sessionId}) but the cascade kill did not take it; the kill took: {string.Join(", ", killedAgents)}");
                Assert.Contains(agentId, killedAgents);
            }
            else
            {
                reply.ExpectProblem(HttpStatusCode.Conflict, "parent_killed");
            }
        }
        Assert.True(admitted >= KillAfter, $"The {KillAfter} joins answered before the kill was sent must have been admitted; {admitted} were.");
        Assert.Empty((await root.GetReplyAsync($"{Api}/alive")).Json.GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task Moving_an_agent_to_another_parent_needs_register()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var root = server.CreateClient();
        await root.JoinAsync("p1");
        await root.JoinAsync("p2");
        var secret = (await root.PostReplyAsync($"{Api}/keys", """{"scopes": ["agent"], "agent_id": "c"}""")).Expect(HttpStatusCode.Created).Json.GetProperty("session_key").GetString();
        using var agent = server.CreateClient(secret);
        // An agent names its first parent itself.
        (await JoinReplyAsync(agent, "c", "p1")).Expect(HttpStatusCode.Created);

        var declared = (await agent.SendReplyAsync(HttpMethod.Put, $"{Api}/agents/c", """{"parent_id": "p2"}""")).ExpectProblem(HttpStatusCode.Forbidden, "insufficient_scope");
        Assert.Equal("parent_id", declared.Json.GetProperty("field").GetString());
        var joined = (await JoinReplyAsync(agent, "c", "p2")).ExpectProblem(HttpStatusCode.Forbidden, "insufficient_scope");
        Assert.Equal("parent_id", joined.Json.GetProperty("field").GetString());

        Assert.Equal("p1", (await root.GetReplyAsync($"{Api}/agents/c")).Expect(HttpStatusCode.OK).Json.GetProperty("parent_id").GetString());
        // Staying under the same parent, or changing only labels, is the agent's own business.
        (await JoinReplyAsync(agent, "c", "p1")).Expect(HttpStatusCode.Created);
        (await agent.SendReplyAsync(HttpMethod.Put, $"{Api}/agents/c", """{"labels": {"team": "x"}}""")).Expect(HttpStatusCode.OK);

        var moved = (await root.SendReplyAsync(HttpMethod.Put, $"{Api}/agents/c", """{"parent_id": "p2"}""")).Expect(HttpStatusCode.OK).Json;
        Assert.Equal("p2", moved.GetProperty("parent_id").GetString());
        Assert.Equal(["c"], (await root.GetReplyAsync($"{Api}/agents/p2")).Json.GetProperty("children").EnumerateArray().Select(c => c.GetString()));
    }
}
