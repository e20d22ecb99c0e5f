using System.Text.Json;

namespace SessionMesh.Tests.Dashboard;

/// <summary>The vendored graph library is the one package.json and package-lock.json pin (npm ci &amp;&amp; npm run vendor reproduces it).</summary>
public sealed class DashboardAssetsTests
{
    private static readonly string s_dashboard = Path.Combine(RepositoryRoot(), "src", "SessionMesh.Server", "Dashboard");

    [Fact]
    public void The_vendored_cytoscape_is_the_version_the_lock_file_pins()
    {
        using var package = JsonDocument.Parse(File.ReadAllText(Path.Combine(s_dashboard, "package.json")));
        using var lockFile = JsonDocument.Parse(File.ReadAllText(Path.Combine(s_dashboard, "package-lock.json")));
        var pinned = package.RootElement.GetProperty("dependencies").GetProperty("cytoscape").GetString()!;
        var locked = lockFile.RootElement.GetProperty("packages").GetProperty("node_modules/cytoscape");

        Assert.Matches(@"^\d+\.\d+\.\d+$", pinned);
        Assert.Equal(pinned, locked.GetProperty("version").GetString());
        Assert.StartsWith("sha512-", locked.GetProperty("integrity").GetString(), StringComparison.Ordinal);
        var vendored = File.ReadAllText(Path.Combine(s_dashboard, "wwwroot", "vendor", "cytoscape.esm.min.mjs"));
        Assert.Contains($".version=\"{pinned}\"", vendored, StringComparison.Ordinal);
        Assert.Contains("Copyright", File.ReadAllText(Path.Combine(s_dashboard, "wwwroot", "vendor", "cytoscape.LICENSE.txt")), StringComparison.Ordinal);
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "session-mesh.slnx")))
            {
                return directory.FullName;
            }
        }
        throw new InvalidOperationException($"No session-mesh.slnx above {AppContext.BaseDirectory}.");
    }
}
