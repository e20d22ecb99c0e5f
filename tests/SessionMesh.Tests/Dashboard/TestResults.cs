namespace SessionMesh.Tests.Dashboard;

/// <summary>Where this run writes its results: the runner's --results-directory, else TestResults beside the tests.</summary>
public static class TestResults
{
    public static string Directory { get; } = Find();

    private static string Find()
    {
        var args = Environment.GetCommandLineArgs();
        var at = Array.IndexOf(args, "--results-directory");
        return at >= 0 && at + 1 < args.Length ? Path.GetFullPath(args[at + 1]) : Path.Combine(AppContext.BaseDirectory, "TestResults");
    }
}
