using System.Net;
using System.Text.Json;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Postgres;

/// <summary>
/// Budgets across replicas: a tree whose agents report through several replicas is held to the sum of what they
/// report, with the warning, the exceeded alert and the kill cascade each happening once, as on one server.
/// </summary>
public sealed class PostgresBudgetTests
{
    private const string Api = "api/session-mesh";

    // Enough requests for the tests' bursts, and a kill's grace longer than a test, so sessions stay open for its reports.
    private static readonly string[] s_arguments = ["--Server:RateLimitBurst=100000", "--Server:RateLimitPerSecond=100000", "--Mesh:DefaultGracePeriod=600"];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Reports_round_robin_through_three_replicas_charge_the_parent_the_exact_sum_and_alert_once_each()
    {
        await using var database = await PostgresTestDatabase.CreateAsync(Ct);
        await using var replicas = await PostgresReplicas.StartAsync(database, 3, environment: null, s_arguments);
        var lead = await JoinAsync(replicas[0], "lead", null, """{"tokens": 1200}""");
        var children = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            children.Add(await JoinAsync(replicas[i], $"worker-{i}", "lead", null));
        }

        // Each worker reports 10 more tokens at a time, each report through the next replica: 40 rounds, 1,200 in all.
        async Task RoundsAsync(int from, int to)
        {
            for (var round = from; round <= to; round++)
            {
                for (var i = 0; i < children.Count; i++)
                {
                    await ReportAsync(replicas[(i + round) % replicas.Count], children[i], $$"""{"tokens": {{round * 10}}}""");
                }
            }
        }
        await RoundsAsync(1, 20);

        // Halfway, every replica shows the whole tree's 600, wherever the reports went, and nothing was announced.
        for (var r = 0; r < replicas.Count; r++)
        {
            var session = (await replicas[r].GetReplyAsync($"{Api}/sessions/{lead}")).Expect(HttpStatusCode.OK).Json;
            Assert.Equal(600, session.GetProperty("budget_used").GetProperty("tokens").GetInt64());
            var usage = (await replicas[r].GetReplyAsync($"{Api}/agents/lead/usage?tree=true")).Expect(HttpStatusCode.OK).Json;
            Assert.Equal(600, usage.GetProperty("charged").GetProperty("tokens").GetInt64());
            Assert.Equal(600, usage.GetProperty("rolled_up").GetProperty("tokens").GetInt64());
        }
        Assert.Empty(await BudgetEventsAsync(replicas[1], "marker-1"));

        // The warning comes at 960 and the limit is spent by the very last report.
        await RoundsAsync(21, 40);
        for (var r = 0; r < replicas.Count; r++)
        {
            var usage = (await replicas[r].GetReplyAsync($"{Api}/agents/lead/usage")).Expect(HttpStatusCode.OK).Json;
            Assert.Equal(1200, usage.GetProperty("charged").GetProperty("tokens").GetInt64());
            Assert.Equal("exceeded", usage.GetProperty("alert").GetString());
        }
        var alerts = await BudgetEventsAsync(replicas[2], "marker-2");
        Assert.Equal(["session.budget_warning", "session.budget_exceeded"], alerts.Select(e => e.Type));
        Assert.All(alerts, e => Assert.Equal("lead", e.AgentId));
        Assert.Equal(960, alerts[0].Data.GetProperty("budget_used").GetProperty("tokens").GetInt64());
        Assert.Equal(1200, alerts[1].Data.GetProperty("budget_used").GetProperty("tokens").GetInt64());

        // One warning message to the lead, and one kill of each agent of the tree: the cascade ran once.
        var leadCommands = await CommandsAsync(replicas[1], "lead");
        Assert.Single(leadCommands, c => c.GetProperty("kind").GetString() == "message");
        foreach (var agent in new[] { "lead", "worker-0", "worker-1", "worker-2" })
        {
            var kill = Assert.Single(await CommandsAsync(replicas[0], agent), c => c.GetProperty("kind").GetString() == "kill");
            Assert.Equal("budget_exceeded", kill.GetProperty("reason").GetString());
        }
    }

    [Fact]
    public async Task A_concurrent_burst_of_reports_through_every_replica_neither_double_charges_nor_loses_a_charge()
    {
        await using var database = await PostgresTestDatabase.CreateAsync(Ct);
        await using var replicas = await PostgresReplicas.StartAsync(database, 3, environment: null, s_arguments);
        await JoinAsync(replicas[0], "pool", null, """{"tool_calls": 400}""");
        var children = new List<string>();
        for (var i = 0; i < 12; i++)
        {
            children.Add(await JoinAsync(replicas[i % replicas.Count], $"w{i}", "pool", null));
        }

        // Every child at once sends each of its counts 1..40 to all three replicas at once: each replica's copy of the
        // child's progress takes it, but the pool is charged each tool call once — 480 in all, past its 400.
        await Task.WhenAll(children.Select(async sessionId =>
        {
            for (var n = 1; n <= 40; n++)
            {
                await Task.WhenAll(Enumerable.Range(0, replicas.Count).Select(r => ReportAsync(replicas[r], sessionId, $$"""{"tool_calls": {{n}}}""")));
            }
        }));

        for (var r = 0; r < replicas.Count; r++)
        {
            var usage = (await replicas[r].GetReplyAsync($"{Api}/agents/pool/usage")).Expect(HttpStatusCode.OK).Json;
            Assert.Equal(480, usage.GetProperty("charged").GetProperty("tool_calls").GetInt64());
            Assert.Equal("exceeded", usage.GetProperty("alert").GetString());
        }
        var alerts = (await BudgetEventsAsync(replicas[1], "marker")).Where(e => e.AgentId == "pool").ToList();
        Assert.Equal(["session.budget_warning", "session.budget_exceeded"], alerts.Select(e => e.Type));
        // Charged one report at a time: the report that crossed the limit took it to exactly 400.
        Assert.Equal(400, alerts[1].Data.GetProperty("budget_used").GetProperty("tool_calls").GetInt64());
        foreach (var agent in children.Select((_, i) => $"w{i}").Prepend("pool"))
        {
            Assert.Single(await CommandsAsync(replicas[2], agent), c => c.GetProperty("kind").GetString() == "kill");
        }
    }

    private static async Task<string> JoinAsync(HttpClient replica, string agentId, string? parent, string? budget)
    {
        var body = $$"""{"agent_id": "{{agentId}}"{{(parent is null ? "" : $", \"parent_id\": \"{parent}\"")}}{{(budget is null ? "" : $", \"budget\": {budget}")}}, "ttl": 3600}""";
        return (await replica.PostReplyAsync($"{Api}/sessions", body)).Expect(HttpStatusCode.Created).Json.GetProperty("session_id").GetString()!;
    }

    private static async Task ReportAsync(HttpClient replica, string sessionId, string progress) =>
        (await replica.PostReplyAsync($"{Api}/sessions/{sessionId}/progress", progress)).Expect(HttpStatusCode.OK);

    private static async Task<List<JsonElement>> CommandsAsync(HttpClient replica, string agentId) =>
        (await replica.GetReplyAsync($"{Api}/agents/{agentId}/commands")).Expect(HttpStatusCode.OK).Json.GetProperty("items").EnumerateArray().ToList();

    /// <summary>
    /// The budget events in <paramref name="replica"/>'s history, read after a join of <paramref name="marker"/> through it:
    /// its event comes after every event written before, so the read cannot miss one another replica wrote a moment ago.
    /// </summary>
    private static async Task<List<(string Type, string? AgentId, JsonElement Data)>> BudgetEventsAsync(HttpClient replica, string marker)
    {
        await JoinAsync(replica, marker, null, null);
        return (await replica.GetReplyAsync($"{Api}/events?since=0&limit=1000")).Expect(HttpStatusCode.OK).Json.GetProperty("items").EnumerateArray()
            .Select(e => (Type: e.GetProperty("type").GetString()!, AgentId: e.TryGetProperty("agent_id", out var a) ? a.GetString() : null, Data: e.GetProperty("data")))
            .Where(e => e.Type.StartsWith("session.budget_", StringComparison.Ordinal))
            .ToList();
    }
}
