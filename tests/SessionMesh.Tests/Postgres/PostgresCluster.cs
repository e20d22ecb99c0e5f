using System.Diagnostics;
using System.Text.RegularExpressions;

namespace SessionMesh.Tests.Postgres;

/// <summary>
/// A PostgreSQL server of the test's own (<c>.ci/postgres.sh</c>), for a test that stops and restarts it without
/// disturbing the tests that share the one <c>./test.sh</c> started. Needs root, as the script does.
/// </summary>
public sealed partial class PostgresCluster : IAsyncDisposable
{
    private readonly string _directory;

    private PostgresCluster(string connectionString, string directory)
    {
        ConnectionString = connectionString;
        _directory = directory;
    }

    /// <summary>A superuser connection string of the server.</summary>
    public string ConnectionString { get; }

    public static async Task<PostgresCluster> StartAsync()
    {
        var output = await RunAsync("start", directory: null);
        var connection = Export().Match(output) is { Success: true } c && c.Groups["name"].Value == "SESSION_MESH_TEST_POSTGRES" ? c.Groups["value"].Value : null;
        var directory = Export().Matches(output).FirstOrDefault(m => m.Groups["name"].Value == "SESSION_MESH_TEST_POSTGRES_DIR")?.Groups["value"].Value;
        return new PostgresCluster(
            connection ?? throw new InvalidOperationException("postgres.sh start printed no connection string: " + output),
            directory ?? throw new InvalidOperationException("postgres.sh start printed no directory: " + output));
    }

    /// <summary>Stops the server at once, as a crash would.</summary>
    public Task PauseAsync() => RunAsync("pause", _directory);

    /// <summary>Starts it again, on the same port, with the same data.</summary>
    public Task ResumeAsync() => RunAsync("resume", _directory);

    public async ValueTask DisposeAsync() => await RunAsync("stop", _directory);

    private static async Task<string> RunAsync(string command, string? directory)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(RepositoryRoot(), ".ci", "postgres.sh"));
        start.ArgumentList.Add(command);
        if (directory is not null)
        {
            start.Environment["SESSION_MESH_TEST_POSTGRES_DIR"] = directory;
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(120));
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($".ci/postgres.sh {command} failed ({process.ExitCode}): {await error}");
        }
        return await output;
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, ".ci", "postgres.sh")))
            {
                return directory.FullName;
            }
        }
        throw new InvalidOperationException("No .ci/postgres.sh above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex("^export (?<name>[A-Z_]+)='(?<value>[^']*)'$", RegexOptions.Multiline)]
    private static partial Regex Export();
}
