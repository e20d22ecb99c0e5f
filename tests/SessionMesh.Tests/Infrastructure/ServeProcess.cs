using System.Diagnostics;
using System.Text;

namespace SessionMesh.Tests.Infrastructure;

/// <summary>
/// <c>session-mesh serve</c> as a real child process, as a user runs it: reads the address and the root key
/// it prints, and stops it with SIGTERM like a service manager would.
/// </summary>
public sealed class ServeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _error = new();
    private readonly TaskCompletionSource<string> _address = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<string> _rootKey = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _nextIsKey;

    private ServeProcess(Process process) => _process = process;

    public string Output { get { lock (_output) { return _output.ToString(); } } }

    public string Error { get { lock (_error) { return _error.ToString(); } } }

    public static string CliPath => Path.Combine(AppContext.BaseDirectory, "session-mesh.dll");

    public static ServeProcess Start(string workingDirectory, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(CliPath);
        start.ArgumentList.Add("serve");
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        // The machine's own settings must not leak into the test.
        foreach (var name in new[] { "SESSION_MESH_LISTEN", "SESSION_MESH_STORE", "SESSION_MESH_DATA_DIR", "SESSION_MESH_ROOT_KEY", "ASPNETCORE_URLS" })
        {
            start.Environment.Remove(name);
        }
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }
        var serve = new ServeProcess(new Process { StartInfo = start, EnableRaisingEvents = true });
        serve._process.OutputDataReceived += (_, e) => serve.OnOutput(e.Data);
        serve._process.ErrorDataReceived += (_, e) =>
        {
            lock (serve._error)
            {
                serve._error.AppendLine(e.Data);
            }
        };
        serve._process.Exited += (_, _) =>
        {
            serve._address.TrySetException(new InvalidOperationException("serve exited before listening: " + serve.Error + serve.Output));
            serve._rootKey.TrySetException(new InvalidOperationException("serve printed no root key: " + serve.Output));
        };
        serve._process.Start();
        serve._process.BeginOutputReadLine();
        serve._process.BeginErrorReadLine();
        return serve;
    }

    private void OnOutput(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_output)
        {
            _output.AppendLine(line);
        }
        const string Listening = "session-mesh listening on ";
        if (line.StartsWith(Listening, StringComparison.Ordinal))
        {
            _address.TrySetResult(line[Listening.Length..].Split(',')[0].Trim());
        }
        else if (line.StartsWith("Root key", StringComparison.Ordinal))
        {
            _nextIsKey = true;
        }
        else if (_nextIsKey)
        {
            _nextIsKey = false;
            _rootKey.TrySetResult(line.Trim());
        }
    }

    /// <summary>The address it printed, once it listens.</summary>
    public Task<string> AddressAsync() => _address.Task.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);

    /// <summary>The root key it printed on a first start.</summary>
    public Task<string> RootKeyAsync() => _rootKey.Task.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);

    /// <summary>Waits for the process to end by itself; returns the exit code.</summary>
    public async Task<int> WaitForExitAsync()
    {
        await _process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        return _process.ExitCode;
    }

    /// <summary>Sends SIGTERM and returns the exit code.</summary>
    public async Task<int> StopAsync()
    {
        if (!_process.HasExited)
        {
            using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            await kill.WaitForExitAsync(TestContext.Current.CancellationToken);
        }
        await _process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        return _process.ExitCode;
    }

    /// <summary>SIGKILL: the process ends at once, with no chance to flush anything (a crash, a power cut).</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
        await _process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
