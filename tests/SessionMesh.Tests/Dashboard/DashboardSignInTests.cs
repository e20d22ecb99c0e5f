using Microsoft.Playwright;
using SessionMesh.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace SessionMesh.Tests.Dashboard;

public sealed class DashboardSignInTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    [Fact]
    public async Task A_key_signs_in_and_an_agent_joined_through_the_api_appears_without_a_reload()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var api = server.CreateClient();
        await api.JoinAsync("planner-1");
        await using var dashboard = await DashboardSession.OpenAsync(chromium, server);

        await dashboard.SignInAsync(server.RootKey);
        await Expect(dashboard.Page.Locator("#who")).ToContainTextAsync("root");
        await Expect(dashboard.Page.Locator("[data-count='alive'] .count")).ToHaveTextAsync("1");

        await dashboard.GoAsync("#/sessions");
        await Expect(dashboard.Page.Locator("tr[data-agent-id='planner-1']")).ToBeVisibleAsync();
        // A reload would lose this mark.
        await dashboard.Page.EvaluateAsync("() => { window.notReloaded = true; }");

        await api.JoinAsync("worker-1", parentId: "planner-1");

        var row = dashboard.Page.Locator("tr[data-agent-id='worker-1']");
        await Expect(row).ToBeVisibleAsync();
        await Expect(row.Locator(".badge")).ToHaveTextAsync("active");
        await dashboard.GoAsync("#/overview");
        await Expect(dashboard.Page.Locator("[data-count='alive'] .count")).ToHaveTextAsync("2");
        Assert.True(await dashboard.Page.EvaluateAsync<bool>("() => window.notReloaded === true"));
        Assert.Empty(dashboard.Errors);
    }

    [Fact]
    public async Task Rows_change_in_place_when_a_session_ends_and_when_a_kill_starts_its_grace_period()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var api = server.CreateClient();
        var sessionId = await api.JoinAsync("leaver-1");
        await api.JoinAsync("doomed-1");
        await using var dashboard = await DashboardSession.OpenAsync(chromium, server);
        await dashboard.SignInAsync(server.RootKey);
        await dashboard.GoAsync("#/sessions");
        var leaver = dashboard.Page.Locator($"tr[data-session-id='{sessionId}'] .badge");
        var doomed = dashboard.Page.Locator("tr[data-agent-id='doomed-1'] .badge");
        await Expect(leaver).ToHaveTextAsync("active");
        await Expect(doomed).ToHaveTextAsync("active");

        (await api.DeleteReplyAsync($"api/session-mesh/sessions/{sessionId}")).Expect(System.Net.HttpStatusCode.OK);
        (await api.DeleteReplyAsync("api/session-mesh/agents/doomed-1?grace_period=600")).Expect(System.Net.HttpStatusCode.OK);

        await Expect(leaver).ToHaveTextAsync("left");
        await Expect(doomed).ToHaveTextAsync("active · terminating");
    }

    [Fact]
    public async Task A_key_revoked_while_the_page_is_open_signs_the_page_out_with_the_reason()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var api = server.CreateClient();
        var created = (await api.PostReplyAsync("api/session-mesh/keys", """{"scopes": ["read"], "name": "short-lived"}""")).Expect(System.Net.HttpStatusCode.Created).Json;
        await using var dashboard = await DashboardSession.OpenAsync(chromium, server);
        await dashboard.SignInAsync(created.GetProperty("session_key").GetString()!);

        (await api.DeleteReplyAsync($"api/session-mesh/keys/{created.GetProperty("key_id").GetString()}")).Expect(System.Net.HttpStatusCode.OK);

        await Expect(dashboard.Page.Locator("#sign-in-error")).ToContainTextAsync("key_revoked");
        await Expect(dashboard.Page.Locator("header.top")).ToBeHiddenAsync();
        Assert.Null(await dashboard.Page.EvaluateAsync<string?>("() => sessionStorage.getItem('session-mesh.key')"));
    }

    [Fact]
    public async Task A_key_the_server_does_not_know_is_refused_with_the_servers_reason()
    {
        await using var server = await MeshTestServer.StartAsync();
        await using var dashboard = await DashboardSession.OpenAsync(chromium, server);
        await dashboard.Page.GotoAsync("/");
        await dashboard.Page.GetByLabel("Session key").FillAsync("sm_key_0000000000000000.not-a-real-secret");
        await dashboard.Page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();

        await Expect(dashboard.Page.Locator("#sign-in-error")).ToContainTextAsync("invalid_key");
        await Expect(dashboard.Page.Locator("header.top")).ToBeHiddenAsync();
        Assert.Null(await dashboard.Page.EvaluateAsync<string?>("() => sessionStorage.getItem('session-mesh.key')"));
    }
}
