using Microsoft.Playwright;
using SessionMesh.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace SessionMesh.Tests.Dashboard;

/// <summary>The page driven by the keyboard alone, and on a phone.</summary>
public sealed class DashboardSeamTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    [Fact]
    public async Task Signing_in_and_moving_between_views_works_from_the_keyboard()
    {
        await using var server = await MeshTestServer.StartAsync();
        await using var dashboard = await DashboardSession.OpenAsync(chromium, server);
        var page = dashboard.Page;
        await page.GotoAsync("/");

        await Expect(page.GetByLabel("Session key")).ToBeFocusedAsync();
        await page.Keyboard.TypeAsync(server.RootKey);
        await page.Keyboard.PressAsync("Enter");
        await page.Locator("body[data-stream='live']").WaitForAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Overview" })).ToBeVisibleAsync();

        // Focus lands on the view's content; the views' links are behind it, in the header.
        await Expect(page.Locator("#main")).ToBeFocusedAsync();
        var sessions = page.GetByRole(AriaRole.Link, new() { Name = "Sessions", Exact = true });
        for (var presses = 0; presses < 10 && !await sessions.EvaluateAsync<bool>("link => link === document.activeElement"); presses++)
        {
            await page.Keyboard.PressAsync("Shift+Tab");
        }
        await Expect(sessions).ToBeFocusedAsync();
        await page.Keyboard.PressAsync("Enter");

        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sessions" })).ToBeVisibleAsync();
        await Expect(sessions).ToHaveAttributeAsync("aria-current", "page");
    }

    [Fact]
    public async Task On_a_phone_in_dark_mode_the_page_is_dark_and_only_tables_scroll_sideways()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var api = server.CreateClient();
        await api.JoinAsync("a-rather-long-agent-name-for-a-narrow-screen");
        await using var dashboard = await DashboardSession.OpenAsync(chromium, server, width: 390, height: 844, colorScheme: ColorScheme.Dark);
        await dashboard.SignInAsync(server.RootKey);
        await dashboard.GoAsync("#/sessions");
        await Expect(dashboard.Page.Locator(".view-sessions tbody tr")).ToHaveCountAsync(1);

        var background = await dashboard.Page.EvaluateAsync<string>("() => getComputedStyle(document.body).backgroundColor");
        Assert.Equal("rgb(18, 22, 28)", background);
        Assert.True(await dashboard.Page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"),
            "The page is wider than a phone's screen.");
    }
}
