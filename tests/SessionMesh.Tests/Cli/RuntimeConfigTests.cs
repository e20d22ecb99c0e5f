using System.Text.Json;

namespace SessionMesh.Tests.Cli;

/// <summary>
/// The settings <c>session-mesh</c> starts its runtime with, from the runtimeconfig the build writes next to it (the
/// same file <c>dotnet run</c>, a publish and the tool package use).
/// </summary>
public sealed class RuntimeConfigTests
{
    [Fact]
    public void The_server_caps_the_young_generation_at_8_MiB()
    {
        // Copied here from the CLI's build output, as for any referenced application.
        var path = Path.Combine(AppContext.BaseDirectory, "session-mesh.runtimeconfig.json");
        using var config = JsonDocument.Parse(File.ReadAllText(path));
        var properties = config.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");
        Assert.True(properties.TryGetProperty("System.GC.Gen0MaxBudget", out var budget), $"{path} sets no young-generation budget.");
        Assert.Equal(8 * 1024 * 1024, budget.GetInt64());
    }
}
