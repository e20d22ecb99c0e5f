using System.Net;
using Microsoft.Playwright;
using SessionMesh.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace SessionMesh.Tests.Dashboard;

public sealed class DashboardViewsTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    [Fact]
    public async Task Every_view_works_and_no_request_leaves_the_servers_origin()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var api = server.CreateClient();
        await SmallFleetAsync(api);
        await using var dashboard = await DashboardSession.OpenAsync(chromium, server);
        await dashboard.SignInAsync(server.RootKey);
        var page = dashboard.Page;

        await Expect(page.Locator("tr[data-specialization='ocr']")).ToContainTextAsync("ocr22");
        await Expect(page.Locator("[data-count='orphaned'] .count")).ToHaveTextAsync("1");
        await Expect(page.Locator("[data-count='terminating'] .count")).ToHaveTextAsync("1");
        // stuck-1 joined with stall_after 1 and never reports: the sweeper marks it stalled while the page watches.
        await Expect(page.Locator("[data-count='stalled'] .count")).ToHaveTextAsync("1");
        await dashboard.GoAsync("#/registry?specialization=ocr");
        await Expect(page.GetByRole(AriaRole.Table, new() { Name = "Agents with ocr" }).Locator("tbody tr")).ToHaveCountAsync(2);
        await dashboard.GoAsync("#/events");
        await api.JoinAsync("late-1");
        await Expect(page.Locator(".events li[data-type='session.joined']").First).ToContainTextAsync("late-1");
        await dashboard.GoAsync("#/agents/ocr-1");
        await Expect(page.Locator("[data-agent-status='active']")).ToContainTextAsync("planner-7");
        await dashboard.GoAsync("#/keys");
        await Expect(page.Locator("tr[data-key-id='root']")).ToBeVisibleAsync();
        await dashboard.GoAsync("#/sessions?filter=idle");
        await Expect(page.Locator(".view-sessions tbody tr")).ToHaveCountAsync(1);
        await dashboard.GoAsync("#/sessions?filter=alive");
        await Expect(page.Locator("tr[data-agent-id='ocr-1'] td.progress")).ToHaveTextAsync("reading the repo · 1200 tokens, 3 tool calls");
        await Expect(page.Locator("tr[data-agent-id='ocr-2'] td.progress")).ToHaveTextAsync("");
        await dashboard.GoAsync("#/topology");
        // Alive agents, and the ended or never-joined ones that have alive children.
        await Expect(page.Locator(".graph[data-nodes='9']")).ToBeVisibleAsync();
        await Expect(page.Locator(".graph canvas").First).ToBeVisibleAsync();

        Assert.Empty(dashboard.OffOriginRequests);
        var origin = dashboard.Origin.ToString();
        Assert.All(dashboard.Requests, url => Assert.StartsWith(origin, url, StringComparison.Ordinal));
        Assert.Contains(dashboard.Requests, url => url.EndsWith("/vendor/cytoscape.esm.min.mjs", StringComparison.Ordinal));
        Assert.Empty(dashboard.Errors);
    }

    /// <summary>A planner with workers (one idle, one reporting progress, one stalling), a terminating batch job, an orphan, and an agent declared but not started.</summary>
    private static async Task SmallFleetAsync(HttpClient api)
    {
        await api.JoinAsync("planner-7");
        var working = await api.JoinAsync("ocr-1", parentId: "planner-7");
        (await api.PostReplyAsync($"api/session-mesh/sessions/{working}/progress", """{"tokens": 1200, "tool_calls": 3, "activity": "reading the repo"}""")).Expect(HttpStatusCode.OK);
        (await api.PostReplyAsync("api/session-mesh/sessions", """{"agent_id": "stuck-1", "parent_id": "planner-7", "stall_after": 1}""")).Expect(HttpStatusCode.Created);
        var idle = await api.JoinAsync("ocr-2", parentId: "planner-7");
        (await api.PostReplyAsync($"api/session-mesh/sessions/{idle}/heartbeat", """{"status": "idle"}""")).Expect(HttpStatusCode.OK);
        foreach (var agentId in new[] { "ocr-1", "ocr-2" })
        {
            (await api.PostReplyAsync("api/session-mesh/registry", $$"""{"specialization": "ocr", "agent_id": "{{agentId}}"}""")).Expect(HttpStatusCode.Created);
        }
        (await api.SendReplyAsync(HttpMethod.Put, "api/session-mesh/agents/worker-5", """{"parent_id": "planner-7"}""")).Expect(HttpStatusCode.Created);
        await api.JoinAsync("batch-3", parentId: "planner-7");
        (await api.DeleteReplyAsync("api/session-mesh/agents/batch-3?grace_period=600")).Expect(HttpStatusCode.OK);
        await api.JoinAsync("lead-2");
        await api.JoinAsync("scout-1", parentId: "lead-2");
        (await api.DeleteReplyAsync("api/session-mesh/agents/lead-2?force=true&cascade=false")).Expect(HttpStatusCode.OK);
    }

    [Fact]
    public async Task The_page_is_served_with_a_strict_content_security_policy_and_no_key()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var anonymous = server.CreateClient("");

        var page = (await anonymous.GetReplyAsync("/")).Expect(HttpStatusCode.OK);
        Assert.Equal("text/html", page.ContentType);
        var policy = page.Headers["Content-Security-Policy"];
        Assert.Contains("default-src 'none'", policy, StringComparison.Ordinal);
        Assert.Contains("script-src 'self';", policy, StringComparison.Ordinal);
        Assert.Contains("connect-src 'self';", policy, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", policy, StringComparison.Ordinal);
        Assert.Equal("nosniff", page.Headers["X-Content-Type-Options"]);
        var script = (await anonymous.GetReplyAsync("/vendor/cytoscape.esm.min.mjs")).Expect(HttpStatusCode.OK);
        Assert.Equal("text/javascript", script.ContentType);
        (await anonymous.GetReplyAsync("/api/session-mesh/alive")).ExpectProblem(HttpStatusCode.Unauthorized, "missing_key");
    }

    [Fact]
    public async Task A_server_set_without_the_dashboard_answers_404_at_the_root()
    {
        await using var server = await MeshTestServer.StartAsync(settings: new Dictionary<string, string> { ["Server:Dashboard"] = "false" });
        using var anonymous = server.CreateClient("");

        (await anonymous.GetReplyAsync("/")).Expect(HttpStatusCode.NotFound);
        (await anonymous.GetReplyAsync("/js/main.js")).Expect(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task The_topology_marks_an_orphan_and_a_click_on_its_entry_opens_its_details()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var api = server.CreateClient();
        await api.JoinAsync("root-1");
        await api.JoinAsync("child-1", parentId: "root-1");
        await api.JoinAsync("child-2", parentId: "root-1");
        await using var dashboard = await DashboardSession.OpenAsync(chromium, server);
        await dashboard.SignInAsync(server.RootKey);
        await dashboard.GoAsync("#/topology");
        await Expect(dashboard.Page.Locator(".graph[data-nodes='3']")).ToBeVisibleAsync();

        (await api.DeleteReplyAsync("api/session-mesh/agents/root-1?force=true&cascade=false")).Expect(HttpStatusCode.OK);

        await dashboard.Page.GetByText("Agents as a list").ClickAsync();
        var child = dashboard.Page.Locator(".tree li[data-agent-id='child-1']").First;
        await Expect(child.Locator(".badge").First).ToHaveTextAsync("active · orphaned");
        await child.GetByRole(AriaRole.Link, new() { Name = "child-1" }).ClickAsync();
        await Expect(dashboard.Page.GetByRole(AriaRole.Heading, new() { Name = "Agent child-1" })).ToBeVisibleAsync();
        // The server keeps agent output: the panel is there, empty until the agent ships lines.
        await Expect(dashboard.Page.Locator("[data-logs]")).ToHaveAttributeAsync("data-logs", "available");
    }

    [Fact]
    public async Task A_key_made_on_the_keys_page_shows_its_secret_once_and_revoking_it_there_ends_it()
    {
        await using var server = await MeshTestServer.StartAsync();
        await using var dashboard = await DashboardSession.OpenAsync(chromium, server);
        await dashboard.SignInAsync(server.RootKey);
        await dashboard.GoAsync("#/keys");
        var page = dashboard.Page;

        await page.GetByLabel("Name").FillAsync("ci-bot");
        await page.GetByLabel("read", new() { Exact = true }).CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Create key" }).ClickAsync();
        var secretField = page.GetByRole(AriaRole.Region, new() { Name = "New key secret" }).GetByLabel("Session key");
        await Expect(secretField).ToHaveValueAsync(new System.Text.RegularExpressions.Regex("^sm_key_"));
        var secret = await secretField.InputValueAsync();
        using var bot = server.CreateClient(secret);
        var self = (await bot.GetReplyAsync("api/session-mesh/keys/self")).Expect(HttpStatusCode.OK).Json;
        Assert.Equal("ci-bot", self.GetProperty("name").GetString());
        var keyId = self.GetProperty("key_id").GetString()!;
        var row = page.Locator($"tr[data-key-id='{keyId}']");
        await Expect(row).ToContainTextAsync("read");
        Assert.DoesNotContain(secret, await page.Locator("table").InnerTextAsync(), StringComparison.Ordinal);

        page.Dialog += async (_, dialog) => await dialog.AcceptAsync();
        await row.GetByRole(AriaRole.Button, new() { Name = $"Revoke {keyId}" }).ClickAsync();

        await Expect(row).ToHaveAttributeAsync("data-state", "revoked");
        (await bot.GetReplyAsync("api/session-mesh/keys/self")).ExpectProblem(HttpStatusCode.Unauthorized, "key_revoked");
    }

    [Fact]
    public async Task A_key_without_the_keys_scope_is_told_so_on_the_keys_page()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var api = server.CreateClient();
        var key = (await api.PostReplyAsync("api/session-mesh/keys", """{"scopes": ["read"]}""")).Expect(HttpStatusCode.Created).Json.GetProperty("session_key").GetString()!;
        await using var dashboard = await DashboardSession.OpenAsync(chromium, server, width: 390, height: 844);
        await dashboard.SignInAsync(key);
        await dashboard.GoAsync("#/keys");

        await Expect(dashboard.Page.Locator("[data-missing-scope='keys']")).ToContainTextAsync("lacks the 'keys' scope");
    }
}
