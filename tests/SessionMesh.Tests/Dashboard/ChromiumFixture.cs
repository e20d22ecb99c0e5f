using Microsoft.Playwright;

namespace SessionMesh.Tests.Dashboard;

/// <summary>
/// Debian's Chromium (the <c>chromium</c> package, installed by .ci/chromium.sh), driven by Playwright: one browser per
/// test class, a fresh context per test. Headless, no sandbox (tests run as root), and nothing that phones home.
/// </summary>
public sealed class ChromiumFixture : IAsyncLifetime
{
    public const string ExecutablePath = "/usr/bin/chromium";

    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        if (!File.Exists(ExecutablePath))
        {
            throw new InvalidOperationException($"{ExecutablePath} is missing: install Debian's chromium package (.ci/chromium.sh; test.sh runs it).");
        }
        // Expect(...) waits as long as any other page condition (Playwright's own default is 5 s).
        Assertions.SetDefaultExpectTimeout(DashboardSession.WaitMs);
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            Args =
            [
                "--no-sandbox",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-default-apps",
                "--no-first-run",
                "--disable-dev-shm-usage",
            ],
        });
    }

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }
        _playwright?.Dispose();
    }
}
