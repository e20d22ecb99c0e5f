using System.Net;
using Microsoft.Playwright;
using SessionMesh.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace SessionMesh.Tests.Dashboard;

public sealed class DashboardCommandTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    [Fact]
    public async Task A_steer_sent_from_the_page_reaches_the_agents_stream_and_the_page_shows_it_acked()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var api = server.CreateClient();
        await api.JoinAsync("steer-1");
        await using var stream = await SseReader.OpenAsync(api, "api/session-mesh/agents/steer-1/commands");
        await using var dashboard = await DashboardSession.OpenAsync(chromium, server);
        await dashboard.SignInAsync(server.RootKey);
        await dashboard.GoAsync("#/agents/steer-1");
        await Expect(dashboard.Page.Locator("[data-agent-status='active']")).ToBeVisibleAsync();

        await dashboard.Page.GetByLabel("Direction").FillAsync("head west");
        await dashboard.Page.GetByLabel("Mode").SelectOptionAsync("interrupt");
        await dashboard.Page.GetByRole(AriaRole.Button, new() { Name = "Send steer" }).ClickAsync();

        var command = await NextCommandAsync(stream);
        Assert.Equal("head west", command.GetProperty("direction").GetString());
        Assert.Equal("interrupt", command.GetProperty("mode").GetString());
        var commandId = command.GetProperty("command_id").GetString()!;
        var row = dashboard.Page.Locator($"tr[data-command-id='{commandId}']");
        // Handed to the stream, not acked yet: the page says delivered.
        await Expect(row).ToHaveAttributeAsync("data-status", "delivered");
        await Expect(row.Locator(".steps li.done")).ToHaveTextAsync(["queued", "delivered"]);

        (await api.PostReplyAsync($"api/session-mesh/agents/steer-1/commands/{commandId}/ack", """{"status": "acked"}""")).Expect(HttpStatusCode.OK);

        await Expect(row).ToHaveAttributeAsync("data-status", "acked");
        await Expect(row.Locator(".badge")).ToHaveTextAsync("acked");
        await Expect(row.Locator(".steps li.done")).ToHaveTextAsync(["queued", "delivered", "acked"]);
        Assert.Empty(dashboard.Errors);
    }

    [Fact]
    public async Task The_agent_page_shows_reported_progress_and_the_budget_live()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var api = server.CreateClient();
        var session = (await api.PostReplyAsync("api/session-mesh/sessions", """{"agent_id": "coder-1", "ttl": 600, "budget": {"tokens": 1000}}"""))
            .Expect(HttpStatusCode.Created).Json.GetProperty("session_id").GetString();
        await using var dashboard = await DashboardSession.OpenAsync(chromium, server);
        await dashboard.SignInAsync(server.RootKey);
        await dashboard.GoAsync("#/agents/coder-1");
        await Expect(dashboard.Page.Locator("[data-agent-status='active']")).ToBeVisibleAsync();

        (await api.PostReplyAsync($"api/session-mesh/sessions/{session}/progress", """{"tokens": 850, "activity": "running tests"}""")).Expect(HttpStatusCode.OK);

        // The warning's event reloads the page: the progress line, and the budget with what is used and the alert.
        await Expect(dashboard.Page.Locator("dd", new() { HasText = "running tests · 850 tokens" })).ToBeVisibleAsync();
        await Expect(dashboard.Page.Locator("dd", new() { HasText = "1000 tokens — used 850 tokens (warned)" })).ToBeVisibleAsync();
        Assert.Empty(dashboard.Errors);
    }

    [Fact]
    public async Task A_cascading_kill_from_the_page_ends_the_agent_and_its_child()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var api = server.CreateClient();
        await api.JoinAsync("boss-1");
        await api.JoinAsync("kid-1", parentId: "boss-1");
        await using var dashboard = await DashboardSession.OpenAsync(chromium, server);
        await dashboard.SignInAsync(server.RootKey);
        await dashboard.GoAsync("#/agents/boss-1");

        await dashboard.Page.GetByRole(AriaRole.Button, new() { Name = "Kill…" }).ClickAsync();
        var dialog = dashboard.Page.GetByRole(AriaRole.Dialog, new() { Name = "Kill agent" });
        await Expect(dialog).ToBeVisibleAsync();
        await Expect(dialog.Locator("#kill-summary")).ToHaveTextAsync("Kill boss-1 and its 1 live sub-agent, gracefully?");
        await Expect(dialog.GetByLabel("Cascade: kill its sub-agents too")).ToBeCheckedAsync();
        await dialog.GetByLabel("Force: end the sessions now, without a grace period").CheckAsync();
        await Expect(dialog.Locator("#kill-summary")).ToHaveTextAsync("Kill boss-1 and its 1 live sub-agent, at once?");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Kill", Exact = true }).ClickAsync();

        await Expect(dashboard.Page.Locator("#agent-message")).ToContainTextAsync("Kill killed: boss-1 (killed), kid-1 (killed).");
        await Expect(dashboard.Page.Locator("[data-agent-status='killed']")).ToBeVisibleAsync();
        foreach (var agentId in new[] { "boss-1", "kid-1" })
        {
            var agent = (await api.GetReplyAsync($"api/session-mesh/agents/{agentId}")).Expect(HttpStatusCode.OK).Json;
            Assert.Equal("killed", agent.GetProperty("status").GetString());
            Assert.False(agent.GetProperty("alive").GetBoolean());
        }
    }

    [Fact]
    public async Task A_key_without_the_kill_scope_sees_the_kill_refused_and_the_agent_lives_on()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var api = server.CreateClient();
        await api.JoinAsync("safe-1");
        var key = (await api.PostReplyAsync("api/session-mesh/keys", """{"scopes": ["read", "steer"], "name": "watcher"}"""))
            .Expect(HttpStatusCode.Created).Json.GetProperty("session_key").GetString()!;
        await using var dashboard = await DashboardSession.OpenAsync(chromium, server);
        await dashboard.SignInAsync(key);
        await dashboard.GoAsync("#/agents/safe-1");
        await Expect(dashboard.Page.GetByText("This key lacks the 'kill' scope")).ToBeVisibleAsync();

        await dashboard.Page.GetByRole(AriaRole.Button, new() { Name = "Kill…" }).ClickAsync();
        await dashboard.Page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Kill", Exact = true }).ClickAsync();

        var refusal = dashboard.Page.GetByRole(AriaRole.Alert);
        await Expect(refusal).ToContainTextAsync("Kill refused: This key lacks the 'kill' scope.");
        await Expect(refusal).ToContainTextAsync("insufficient_scope");
        var agent = (await api.GetReplyAsync("api/session-mesh/agents/safe-1")).Expect(HttpStatusCode.OK).Json;
        Assert.True(agent.GetProperty("alive").GetBoolean());
    }

    private static async Task<System.Text.Json.JsonElement> NextCommandAsync(SseReader stream)
    {
        while (await stream.NextAsync() is { } frame)
        {
            if (frame.Event == "command")
            {
                return frame.Json;
            }
        }
        throw new InvalidOperationException("The command stream ended before a command came.");
    }
}
