using System.Net;
using System.Text.Json;
using Microsoft.Playwright;
using SessionMesh.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace SessionMesh.Tests.Dashboard;

/// <summary>The agent page's output panel follows the agent's log live (GET /agents/{id}/logs?follow=true).</summary>
public sealed class DashboardLogsTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    private const string Logs = "api/session-mesh/agents/talker-1/logs";

    [Fact]
    public async Task Lines_shipped_while_the_page_is_open_appear_without_a_reload_and_leaving_stops_the_stream()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var api = server.CreateClient();
        await api.JoinAsync("talker-1");
        await ShipAsync(api, ("stdout", "starting"), ("stderr", "warming up"));
        await using var dashboard = await DashboardSession.OpenAsync(chromium, server);
        await dashboard.SignInAsync(server.RootKey);
        var followStopped = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        dashboard.Page.RequestFailed += (_, request) =>
        {
            if (request.Url.Contains("/logs?", StringComparison.Ordinal)) followStopped.TrySetResult(request.Url);
        };

        await dashboard.GoAsync("#/agents/talker-1");
        var output = dashboard.Page.Locator("pre.logs");
        await Expect(output).ToHaveTextAsync("starting\n[stderr] warming up\n");
        await Expect(dashboard.Page.Locator("[data-logs]")).ToHaveAttributeAsync("data-logs", "available");

        await ShipAsync(api, ("stdout", "step 1 done"));
        await Expect(output).ToHaveTextAsync("starting\n[stderr] warming up\nstep 1 done\n");
        await ShipAsync(api, ("stderr", "slow disk"), ("stdout", "step 2 done"));
        await Expect(output.Locator(".line").Last).ToHaveTextAsync("step 2 done\n");
        await Expect(output.Locator(".line.stderr").Last).ToHaveTextAsync("[stderr] slow disk\n");

        var follow = Assert.Single(dashboard.Requests, url => url.Contains("/logs?", StringComparison.Ordinal));
        Assert.Contains("follow=true", follow, StringComparison.Ordinal);
        Assert.DoesNotContain(server.RootKey, follow, StringComparison.Ordinal);

        await dashboard.GoAsync("#/sessions");
        Assert.Equal(follow, await followStopped.Task.WaitAsync(TestTimeouts.Event, TestContext.Current.CancellationToken));
        Assert.Empty(dashboard.Errors);
    }

    [Fact]
    public async Task The_panel_keeps_a_bounded_number_of_lines_the_newest_last()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var api = server.CreateClient();
        await api.JoinAsync("talker-1");
        await ShipAsync(api, [.. Enumerable.Range(1, 700).Select(i => ("stdout", $"old {i}"))]);
        await using var dashboard = await DashboardSession.OpenAsync(chromium, server);
        await dashboard.SignInAsync(server.RootKey);
        await dashboard.GoAsync("#/agents/talker-1");
        var lines = dashboard.Page.Locator("pre.logs .line");
        await Expect(lines.Last).ToHaveTextAsync("old 700\n");

        await ShipAsync(api, [.. Enumerable.Range(1, 30).Select(i => ("stdout", $"new {i}"))]);

        await Expect(lines.Last).ToHaveTextAsync("new 30\n");
        await Expect(lines).ToHaveCountAsync(500);
        await Expect(lines.First).ToHaveTextAsync("old 231\n");
    }

    [Fact]
    public async Task After_a_drop_the_panel_resumes_from_the_last_line_it_showed()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var api = server.CreateClient();
        await api.JoinAsync("talker-1");
        await ShipAsync(api, ("stdout", "one"), ("stdout", "two"));
        var shipped = (await api.GetReplyAsync(Logs)).Expect(HttpStatusCode.OK).Json.GetProperty("items");
        var sequences = shipped.EnumerateArray().Select(line => line.GetProperty("sequence").GetInt64()).ToArray();
        await using var dashboard = await DashboardSession.OpenAsync(chromium, server);
        await dashboard.SignInAsync(server.RootKey);
        // The first follow answers the two lines and ends (a dropped connection); the next goes to the server.
        var resumedWith = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var follows = 0;
        await dashboard.Page.RouteAsync(url => url.Contains("/logs?", StringComparison.Ordinal), async route =>
        {
            if (Interlocked.Increment(ref follows) == 1)
            {
                var frames = string.Concat(shipped.EnumerateArray().Select(line => $"event: line\ndata: {line.GetRawText()}\nid: {line.GetProperty("sequence").GetInt64()}\n\n"));
                await route.FulfillAsync(new RouteFulfillOptions { Status = 200, ContentType = "text/event-stream", Body = frames });
                return;
            }
            resumedWith.TrySetResult(route.Request.Headers.GetValueOrDefault("last-event-id"));
            await route.ContinueAsync();
        });

        await dashboard.GoAsync("#/agents/talker-1");

        Assert.Equal(sequences[1].ToString(System.Globalization.CultureInfo.InvariantCulture),
            await resumedWith.Task.WaitAsync(TestTimeouts.Event, TestContext.Current.CancellationToken));
        await Expect(dashboard.Page.Locator("[data-logs]")).ToHaveAttributeAsync("data-logs", "available");
        await ShipAsync(api, ("stdout", "three"));
        await Expect(dashboard.Page.Locator("pre.logs")).ToHaveTextAsync("one\ntwo\nthree\n");
    }

    private static async Task ShipAsync(HttpClient api, params (string Stream, string Text)[] lines)
    {
        var body = JsonSerializer.Serialize(new { lines = lines.Select(line => new { stream = line.Stream, text = line.Text }) });
        (await api.PostReplyAsync(Logs, body)).Expect(HttpStatusCode.OK);
    }
}
