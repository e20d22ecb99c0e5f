using Microsoft.Playwright;
using SessionMesh.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace SessionMesh.Tests.Dashboard;

public sealed class DashboardScaleTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    private const int Sessions = 10_000;

    [Fact]
    public async Task Ten_thousand_sessions_load_page_forwards_and_back_and_every_one_is_listed_once()
    {
        // The per-key rate limit would spread 10,000 joins over 20 s; this test is about the page, not the limiter.
        await using var server = await MeshTestServer.StartAsync(settings: new Dictionary<string, string>
        {
            ["Server:RateLimitPerSecond"] = "1000000",
            ["Server:RateLimitBurst"] = "1000000",
        });
        using var api = server.CreateClient();
        await Parallel.ForEachAsync(Enumerable.Range(1, Sessions), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = TestContext.Current.CancellationToken },
            // A long TTL: on a busy machine the joins take longer than the default 30 s lease.
            async (i, _) => (await api.PostReplyAsync("api/session-mesh/sessions", $$"""{"agent_id": "agent-{{i:D5}}", "ttl": 3600}""")).Expect(System.Net.HttpStatusCode.Created));
        await using var dashboard = await DashboardSession.OpenAsync(chromium, server);
        await dashboard.SignInAsync(server.RootKey);
        await Expect(dashboard.Page.Locator("[data-count='alive'] .count")).ToHaveTextAsync(Sessions.ToString(System.Globalization.CultureInfo.InvariantCulture));

        await dashboard.GoAsync("#/sessions");
        var rows = dashboard.Page.Locator(".view-sessions tbody tr");
        var status = dashboard.Page.Locator(".page-status");
        await Expect(status).ToHaveTextAsync("Page 1: sessions 1–100");
        await Expect(rows).ToHaveCountAsync(100);
        var firstPage = await AgentIdsAsync(rows);
        var next = dashboard.Page.GetByRole(AriaRole.Button, new() { Name = "Next →" });
        var previous = dashboard.Page.GetByRole(AriaRole.Button, new() { Name = "← Previous" });
        await next.ClickAsync();
        await Expect(status).ToHaveTextAsync("Page 2: sessions 101–200");
        var secondPage = await AgentIdsAsync(rows);
        Assert.Empty(firstPage.Intersect(secondPage));
        await previous.ClickAsync();
        await Expect(status).ToHaveTextAsync("Page 1: sessions 1–100");
        Assert.Equal(firstPage, await AgentIdsAsync(rows));

        // The largest page size, through to the end: every session exactly once.
        await dashboard.Page.GetByLabel("Rows per page").SelectOptionAsync("500");
        await dashboard.Page.GetByRole(AriaRole.Button, new() { Name = "Apply" }).ClickAsync();
        var seen = new HashSet<string>();
        for (var page = 1; page <= Sessions / 500; page++)
        {
            var first = (page - 1) * 500 + 1;
            var last = page == Sessions / 500 ? " (last page)" : "";
            await Expect(status).ToHaveTextAsync($"Page {page}: sessions {first}–{first + 499}{last}");
            foreach (var agentId in await AgentIdsAsync(rows))
            {
                Assert.True(seen.Add(agentId), $"{agentId} was listed twice");
            }
            if (page < Sessions / 500)
            {
                await next.ClickAsync();
            }
        }
        Assert.Equal(Sessions, seen.Count);
        await Expect(next).ToBeDisabledAsync();

        await dashboard.Page.GetByLabel("Agent id").FillAsync("agent-07777");
        await dashboard.Page.GetByRole(AriaRole.Button, new() { Name = "Apply" }).ClickAsync();
        await Expect(status).ToHaveTextAsync("Page 1: sessions 1–1 (last page)");
        await Expect(rows).ToHaveCountAsync(1);
        Assert.Equal("agent-07777", await rows.First.GetAttributeAsync("data-agent-id"));
    }

    private static async Task<List<string>> AgentIdsAsync(ILocator rows) =>
        [.. await rows.EvaluateAllAsync<string[]>("rows => rows.map(row => row.dataset.agentId)")];
}
