using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Dashboard;

/// <summary>
/// One browser context on one test server's dashboard. Every request for another origin is refused by route
/// interception and recorded; Content-Security-Policy violations and page errors are recorded too. Disposing saves
/// a screenshot under the test results directory (pass or fail) and closes the context.
/// </summary>
public sealed partial class DashboardSession : IAsyncDisposable
{
    /// <summary>How long a page condition may take before the test fails.</summary>
    public static readonly float WaitMs = (float)TestTimeouts.Event.TotalMilliseconds;

    private readonly IBrowserContext _context;

    private DashboardSession(IBrowserContext context, IPage page, Uri origin)
    {
        _context = context;
        Page = page;
        Origin = origin;
    }

    public IPage Page { get; }

    public Uri Origin { get; }

    /// <summary>Requests the page tried to send to another origin (each refused).</summary>
    public ConcurrentQueue<string> OffOriginRequests { get; } = new();

    /// <summary>Every request URL the page sent, same origin or not.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>Console errors and uncaught page errors: CSP violations show up here.</summary>
    public ConcurrentQueue<string> Errors { get; } = new();

    public static async Task<DashboardSession> OpenAsync(ChromiumFixture chromium, MeshTestServer server, int width = 1280, int height = 860, ColorScheme colorScheme = ColorScheme.Light)
    {
        var origin = new Uri(server.BaseAddress.GetLeftPart(UriPartial.Authority));
        var context = await chromium.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = width, Height = height },
            BaseURL = server.BaseAddress.ToString(),
            ColorScheme = colorScheme,
        });
        context.SetDefaultTimeout(WaitMs);
        var page = await context.NewPageAsync();
        var session = new DashboardSession(context, page, origin);
        var originText = origin.ToString().TrimEnd('/');
        await context.RouteAsync(url => !IsSameOrigin(url, originText), async route =>
        {
            session.OffOriginRequests.Enqueue(route.Request.Url);
            await route.AbortAsync("blockedbyclient");
        });
        page.Request += (_, request) => session.Requests.Enqueue(request.Url);
        page.Console += (_, message) =>
        {
            // A refusal the page handles (a 403, a 404 for logs) is logged by Chromium as a failed load: not a page error.
            if (message.Type == "error" && !message.Text.StartsWith("Failed to load resource", StringComparison.Ordinal))
            {
                session.Errors.Enqueue(message.Text);
            }
        };
        page.PageError += (_, error) => session.Errors.Enqueue(error);
        return session;
    }

    private static bool IsSameOrigin(string url, string origin) =>
        url.StartsWith(origin + "/", StringComparison.Ordinal) || url == origin || url.StartsWith("data:", StringComparison.Ordinal);

    /// <summary>Opens the dashboard and signs in with <paramref name="key"/>; waits until the event stream is live.</summary>
    public async Task SignInAsync(string key)
    {
        await Page.GotoAsync("/");
        await Page.GetByLabel("Session key").FillAsync(key);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Page.Locator("body[data-stream='live']").WaitForAsync();
    }

    /// <summary>Goes to a view by its address (#/sessions, #/agents/x) inside the signed-in page.</summary>
    public Task GoAsync(string hash) => Page.EvaluateAsync("hash => { window.location.hash = hash; }", hash);

    public async ValueTask DisposeAsync()
    {
        try
        {
            var directory = Path.Combine(TestResults.Directory, "dashboard");
            Directory.CreateDirectory(directory);
            var name = SafeName().Replace(TestContext.Current.Test?.TestDisplayName ?? "dashboard", "_");
            await Page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(directory, name + ".png"), FullPage = true });
        }
        catch (PlaywrightException ex)
        {
            // A page that crashed cannot be photographed; the test's own failure is the one to report.
            TestContext.Current.SendDiagnosticMessage($"No screenshot: {ex.Message}");
        }
        finally
        {
            await _context.DisposeAsync();
        }
    }

    [GeneratedRegex("[^A-Za-z0-9._-]+")]
    private static partial Regex SafeName();
}
