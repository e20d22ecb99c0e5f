using System.Diagnostics;
using System.Globalization;
using System.Text;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Agent;

/// <summary>
/// <c>session-mesh agent ... -- COMMAND</c> as a real process, as a user runs it: its output collected line by line
/// so a test can wait for a line, signalled like a shell would, and killed with its tree if a test fails midway.
/// </summary>
public sealed class WrapperProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Lines _out = new();
    private readonly Lines _err = new();

    private WrapperProcess(Process process) => _process = process;

    public int Pid => _process.Id;

    public string Output => _out.Text;

    public string Error => _err.Text;

    /// <summary>The path of the CLI, for scripts that start nested wrappers.</summary>
    public static string CliPath => Path.Combine(AppContext.BaseDirectory, "session-mesh.dll");

    public static WrapperProcess Start(Uri server, string key, string workingDirectory, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null) =>
        StartCli(server, key, workingDirectory, ["agent", .. args], environment);

    /// <summary>Any <c>session-mesh</c> command as a process (<c>logs -f</c>).</summary>
    public static WrapperProcess StartCli(Uri server, string key, string workingDirectory, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        // Through env(1), which execs in place (same pid), with SIGINT back at its default: a test run started in the
        // background (a script's `&`, nohup) inherits SIGINT ignored, as shells arrange for background jobs, and .NET
        // keeps an inherited ignore, so a test's Ctrl+C would never arrive. A terminal's foreground job has the default.
        var start = new ProcessStartInfo("env")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        start.ArgumentList.Add("--default-signal=INT");
        start.ArgumentList.Add(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet");
        start.ArgumentList.Add(CliPath);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        foreach (var name in new[] { "SESSION_MESH_AGENT_ID", "SESSION_MESH_SESSION_ID", "SESSION_MESH_AGENT_KEY", "SESSION_MESH_MINTING_KEY", "SESSION_MESH_CONFIG_DIR" })
        {
            start.Environment.Remove(name);
        }
        start.Environment["SESSION_MESH_URL"] = server.ToString();
        start.Environment["SESSION_API_KEY"] = key;
        start.Environment["NO_COLOR"] = "1";
        start.Environment["SESSION_MESH_CLI"] = CliPath;
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var wrapper = new WrapperProcess(process);
        process.OutputDataReceived += (_, e) => wrapper._out.Add(e.Data);
        process.ErrorDataReceived += (_, e) => wrapper._err.Add(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return wrapper;
    }

    /// <summary>Waits until the wrapper's stdout (its child's, echoed) has a line containing <paramref name="text"/>.</summary>
    public Task WaitForOutputAsync(string text, TimeSpan? timeout = null) => _out.WaitForAsync(text, timeout ?? TestTimeouts.Request, this);

    public Task WaitForErrorAsync(string text, TimeSpan? timeout = null) => _err.WaitForAsync(text, timeout ?? TestTimeouts.Request, this);

    /// <summary>Waits for the wrapper to exit; returns its exit code.</summary>
    public async Task<int> ExitAsync(TimeSpan? timeout = null)
    {
        try
        {
            await _process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(timeout ?? TestTimeouts.Request, TestContext.Current.CancellationToken);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"The wrapper did not exit.\nstdout: {Output}\nstderr: {Error}");
        }
        return _process.ExitCode;
    }

    /// <summary>Sends the wrapper a signal, as `kill -SIG pid` does.</summary>
    public async Task SignalAsync(string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", _process.Id.ToString(CultureInfo.InvariantCulture)])!;
        await kill.WaitForExitAsync(TestContext.Current.CancellationToken);
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

    private sealed class Lines
    {
        private readonly StringBuilder _text = new();
        private readonly List<(string Needle, TaskCompletionSource Seen)> _waiters = [];

        public string Text
        {
            get
            {
                lock (_text)
                {
                    return _text.ToString();
                }
            }
        }

        public void Add(string? line)
        {
            if (line is null)
            {
                return;
            }
            lock (_text)
            {
                _text.AppendLine(line);
                foreach (var waiter in _waiters.Where(w => line.Contains(w.Needle, StringComparison.Ordinal)).ToList())
                {
                    waiter.Seen.TrySetResult();
                    _waiters.Remove(waiter);
                }
            }
        }

        public async Task WaitForAsync(string needle, TimeSpan timeout, WrapperProcess owner)
        {
            var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_text)
            {
                if (_text.ToString().Contains(needle, StringComparison.Ordinal))
                {
                    return;
                }
                _waiters.Add((needle, seen));
            }
            try
            {
                await seen.Task.WaitAsync(timeout, TestContext.Current.CancellationToken);
            }
            catch (TimeoutException)
            {
                throw new TimeoutException($"No line with '{needle}' within {timeout}.\nstdout: {owner.Output}\nstderr: {owner.Error}");
            }
        }
    }
}
