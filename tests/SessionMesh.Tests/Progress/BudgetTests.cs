using System.Net;
using System.Text.Json;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Progress;

/// <summary>
/// Budgets over progress: usage rolled up over the tree, a child's budget bounded by what its ancestors have left,
/// a warning at the soft limit and a graceful kill of the sub-tree when spent, with events and audit.
/// </summary>
public sealed class BudgetTests
{
    private const string Api = "api/session-mesh";

    [Fact]
    public async Task Usage_rolls_up_over_a_three_level_tree_and_counts_against_the_root_budget()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        var root = await JoinAsync(client, "root", null, """{"tokens": 10000, "cost_usd": 5}""");
        var child = await JoinAsync(client, "child", "root", null);
        var grandchild = await JoinAsync(client, "grandchild", "child", null);

        await ReportAsync(client, root.SessionId, """{"tokens": 100}""");
        await ReportAsync(client, child.SessionId, """{"tokens": 200, "cost_usd": 0.5}""");
        await ReportAsync(client, grandchild.SessionId, """{"tokens": 300}""");
        await ReportAsync(client, grandchild.SessionId, """{"tokens": 350, "cost_usd": 0.25}""");

        var usage = (await client.GetReplyAsync($"{Api}/agents/root/usage?tree=true")).Expect(HttpStatusCode.OK).Json;
        Assert.Equal(100, usage.GetProperty("own").GetProperty("tokens").GetInt64());
        Assert.Equal(650, usage.GetProperty("rolled_up").GetProperty("tokens").GetInt64());
        Assert.Equal(0.75, usage.GetProperty("rolled_up").GetProperty("cost_usd").GetDouble(), 6);
        Assert.Equal(650, usage.GetProperty("charged").GetProperty("tokens").GetInt64());
        Assert.Equal(9350, usage.GetProperty("left").GetProperty("tokens").GetInt64());
        var childUsage = Assert.Single(usage.GetProperty("children").EnumerateArray());
        Assert.Equal(550, childUsage.GetProperty("rolled_up").GetProperty("tokens").GetInt64());
        // The children inherited what the root had left when they joined: all of it, then.
        Assert.Equal(10000, child.Budget.GetProperty("tokens").GetInt64());
        Assert.False((await client.GetReplyAsync($"{Api}/agents/root/usage")).Expect(HttpStatusCode.OK).Json.TryGetProperty("children", out _));
    }

    [Fact]
    public async Task A_child_asking_for_more_than_is_left_is_clipped_or_refused_and_nothing_left_is_409()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        var root = await JoinAsync(client, "lead", null, """{"tokens": 1000, "runtime": 600}""");
        await ReportAsync(client, root.SessionId, """{"tokens": 400}""");

        var greedy = await JoinAsync(client, "greedy", "lead", """{"tokens": 5000, "turns": 10, "runtime": 3600}""");
        Assert.Equal(600, greedy.Budget.GetProperty("tokens").GetInt64());
        Assert.Equal(10, greedy.Budget.GetProperty("turns").GetInt64());
        Assert.True(greedy.Budget.GetProperty("runtime").GetInt32() <= 600);
        Assert.True(greedy.Session.GetProperty("max_runtime").GetInt32() <= 600);
        Assert.Equal(["runtime", "tokens"], greedy.Session.GetProperty("budget_clipped").EnumerateArray().Select(e => e.GetString()!).Order());

    }

    [Fact]
    public async Task A_join_under_a_parent_with_nothing_left_is_409_budget_exceeded()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await MeshTestServer.StartAsync(time: time, settings: new Dictionary<string, string> { ["Mesh:SweepInterval"] = "1.00:00:00" });
        using var client = server.CreateClient();
        await JoinAsync(client, "lead", null, """{"runtime": 60}""");
        time.Advance(TimeSpan.FromSeconds(61));

        var refused = await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "late", "parent_id": "lead"}""");
        Assert.Equal(HttpStatusCode.Conflict, refused.Status);
        Assert.Equal("budget_exceeded", refused.Code);
        Assert.Contains("runtime 0 s left", refused.Body);
    }

    [Fact]
    public async Task With_budget_overask_refuse_a_join_asking_for_more_is_refused()
    {
        await using var server = await MeshTestServer.StartAsync(settings: new Dictionary<string, string> { ["Mesh:BudgetOverask"] = "refuse" });
        using var client = server.CreateClient();
        await JoinAsync(client, "lead", null, """{"cost_usd": 2}""");

        var refused = await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "greedy", "parent_id": "lead", "budget": {"cost_usd": 3}}""");
        Assert.Equal(HttpStatusCode.Conflict, refused.Status);
        Assert.Equal("budget_exceeded", refused.Code);
        Assert.Contains("cost_usd", refused.Body);
        await JoinAsync(client, "modest", "lead", """{"cost_usd": 1}""");
    }

    [Fact]
    public async Task The_soft_limit_warns_once_and_the_hard_limit_kills_the_sub_tree_with_events_and_audit()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        var root = await JoinAsync(client, "boss", null, """{"tokens": 100}""");
        var worker = await JoinAsync(client, "worker", "boss", null);

        await ReportAsync(client, worker.SessionId, """{"tokens": 85}""");
        await ReportAsync(client, worker.SessionId, """{"tokens": 90}""");
        var warned = (await client.GetReplyAsync($"{Api}/sessions/{root.SessionId}")).Expect(HttpStatusCode.OK).Json;
        Assert.Equal("warned", warned.GetProperty("budget_alert").GetString());
        var messages = await PendingAsync(client, "boss");
        var warning = Assert.Single(messages);
        Assert.Equal("message", warning.GetProperty("kind").GetString());
        Assert.Contains("Budget warning", warning.GetProperty("text").GetString());

        await ReportAsync(client, root.SessionId, """{"tokens": 11}""");
        // The worker inherited the 100 when it joined: its own budget warned too, but only the boss's is spent.
        Assert.Equal(["session.budget_warning", "session.budget_exceeded"], await BudgetEventsAsync(client, "boss"));
        Assert.Equal(["session.budget_warning"], await BudgetEventsAsync(client, "worker"));
        foreach (var agent in new[] { "boss", "worker" })
        {
            var kill = Assert.Single(await PendingAsync(client, agent), c => c.GetProperty("kind").GetString() == "kill");
            Assert.Equal("budget_exceeded", kill.GetProperty("reason").GetString());
            Assert.Equal("mesh", kill.GetProperty("created_by").GetString());
        }
        var audit = (await client.GetReplyAsync($"{Api}/audit?limit=1000")).Expect(HttpStatusCode.OK).Json.GetProperty("items").EnumerateArray()
            .Select(a => a.TryGetProperty("code", out var code) ? code.GetString() : null).ToList();
        Assert.Contains("budget_warning", audit);
        Assert.Contains("budget_exceeded", audit);
    }

    [Fact]
    public async Task Many_children_reporting_at_once_cross_the_parent_budget_once_and_by_at_most_one_report()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        await JoinAsync(client, "pool", null, """{"tool_calls": 500}""");
        var children = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            children.Add((await JoinAsync(client, $"w{i}", "pool", null)).SessionId);
        }

        // Each child reports 1..40 tool calls, one at a time, all children at once: 800 in all, past the 500.
        await Task.WhenAll(children.Select(async sessionId =>
        {
            for (var n = 1; n <= 40; n++)
            {
                await ReportAsync(client, sessionId, $$"""{"tool_calls": {{n}}}""");
            }
        }));

        var exceeded = Assert.Single(await BudgetEventsAsync(client), e => e.Type == "session.budget_exceeded" && e.AgentId == "pool");
        var chargedAtKill = exceeded.Data.GetProperty("budget_used").GetProperty("tool_calls").GetInt64();
        Assert.InRange(chargedAtKill, 500, 501);
        var usage = (await client.GetReplyAsync($"{Api}/agents/pool/usage")).Expect(HttpStatusCode.OK).Json;
        Assert.Equal(800, usage.GetProperty("charged").GetProperty("tool_calls").GetInt64());
        Assert.Equal("exceeded", usage.GetProperty("alert").GetString());
    }

    [Fact]
    public async Task Bad_budgets_are_refused_naming_the_field()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        foreach (var (budget, field) in new[]
        {
            ("""{"tokens": 0}""", "budget.tokens"),
            ("""{"cost_usd": -1}""", "budget.cost_usd"),
            ("""{"runtime": 0}""", "budget.runtime"),
            ("""{"tokenz": 5}""", "tokenz"),
        })
        {
            var reply = await client.PostReplyAsync($"{Api}/sessions", $$"""{"agent_id": "bad", "budget": {{budget}}}""");
            Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
            Assert.Contains(field, reply.Body);
        }
        var mismatch = await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "bad", "max_runtime": 60, "budget": {"runtime": 90}}""");
        Assert.Equal(HttpStatusCode.BadRequest, mismatch.Status);
        Assert.Contains("max_runtime", mismatch.Body);
    }

    private sealed record Joined(string SessionId, JsonElement Session, JsonElement Budget);

    private static async Task<Joined> JoinAsync(HttpClient client, string agentId, string? parent, string? budget)
    {
        var body = $$"""{"agent_id": "{{agentId}}"{{(parent is null ? "" : $", \"parent_id\": \"{parent}\"")}}{{(budget is null ? "" : $", \"budget\": {budget}")}}, "ttl": 3600}""";
        var session = (await client.PostReplyAsync($"{Api}/sessions", body)).Expect(HttpStatusCode.Created).Json;
        return new Joined(session.GetProperty("session_id").GetString()!, session, session.TryGetProperty("budget", out var b) ? b : default);
    }

    private static async Task ReportAsync(HttpClient client, string sessionId, string progress) =>
        (await client.PostReplyAsync($"{Api}/sessions/{sessionId}/progress", progress)).Expect(HttpStatusCode.OK);

    private static async Task<List<JsonElement>> PendingAsync(HttpClient client, string agentId) =>
        (await client.GetReplyAsync($"{Api}/agents/{agentId}/commands")).Expect(HttpStatusCode.OK).Json.GetProperty("items").EnumerateArray().ToList();

    private static async Task<List<string>> BudgetEventsAsync(HttpClient client, string agentId) =>
        (await BudgetEventsAsync(client)).Where(e => e.AgentId == agentId).Select(e => e.Type).ToList();

    private static async Task<List<(string Type, string? AgentId, JsonElement Data)>> BudgetEventsAsync(HttpClient client) =>
        (await client.GetReplyAsync($"{Api}/events?since=0&limit=1000")).Expect(HttpStatusCode.OK).Json.GetProperty("items").EnumerateArray()
            .Select(e => (Type: e.GetProperty("type").GetString()!, AgentId: e.TryGetProperty("agent_id", out var a) ? a.GetString() : null, Data: e.GetProperty("data")))
            .Where(e => e.Type.StartsWith("session.budget_", StringComparison.Ordinal))
            .ToList();
}
