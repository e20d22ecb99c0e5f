using System.Diagnostics;
using SessionMesh.Cli;

namespace SessionMesh.Tests.Cli;

/// <summary>What one CLI run produced.</summary>
public sealed record CliRun(int ExitCode, string Out, string Error)
{
    public CliRun Expect(int exitCode)
    {
        Assert.True(exitCode == ExitCode, $"Expected exit {exitCode}, got {ExitCode}.\nstdout: {Out}\nstderr: {Error}");
        return this;
    }
}

/// <summary>
/// Runs the CLI in-process with its own streams and environment (fast, parallel-safe), or as a real child
/// process through `dotnet session-mesh.dll` (what a user runs).
/// </summary>
public sealed class CliHarness : IDisposable
{
    private readonly Dictionary<string, string?> _environment = new(StringComparer.Ordinal);

    public CliHarness()
    {
        ConfigDir = Directory.CreateTempSubdirectory("session-mesh-cli-").FullName;
        _environment["SESSION_MESH_CONFIG_DIR"] = ConfigDir;
        _environment["NO_COLOR"] = "1";
    }

    /// <summary>A temp directory for the CLI's settings and a test's files.</summary>
    public string ConfigDir { get; }

    public CliHarness With(string name, string? value)
    {
        _environment[name] = value;
        return this;
    }

    public CliHarness WithServer(Uri server, string? key)
    {
        _environment["SESSION_MESH_URL"] = server.ToString();
        _environment["SESSION_API_KEY"] = key;
        return this;
    }

    public string WriteFile(string name, string content)
    {
        var path = Path.Combine(ConfigDir, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    /// <summary>Runs in-process. <paramref name="terminal"/> makes stdin and stdout look like a terminal.</summary>
    public async Task<CliRun> RunAsync(string[] args, string stdin = "", bool terminal = false)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var console = new CliConsole
        {
            Out = output,
            Error = error,
            In = new StringReader(stdin),
            IsOutputTerminal = terminal,
            IsErrorTerminal = terminal,
            IsInputTerminal = terminal,
            GetEnvironmentVariable = name => _environment.TryGetValue(name, out var value) ? value : null,
        };
        var exitCode = await CliApp.RunAsync(args, console, TestContext.Current.CancellationToken);
        return new CliRun(exitCode, output.ToString(), error.ToString());
    }

    public Task<CliRun> RunAsync(params string[] args) => RunAsync(args, "", false);

    /// <summary>Runs the built `session-mesh` as a child process, stdin and stdout redirected (so: not a terminal).</summary>
    public async Task<CliRun> RunProcessAsync(params string[] args)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = ConfigDir,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "session-mesh.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        foreach (var name in new[] { "SESSION_API_KEY", "SESSION_MESH_URL", "SESSION_MESH_MINTING_KEY", "SESSION_MESH_CONFIG_DIR" })
        {
            start.Environment.Remove(name);
        }
        foreach (var (name, value) in _environment)
        {
            start.Environment[name] = value;
        }
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        return new CliRun(process.ExitCode, await stdout, await stderr);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(ConfigDir, recursive: true);
        }
        catch (IOException)
        {
            // Left for the OS to clean.
        }
    }
}
