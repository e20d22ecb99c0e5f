using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace SessionMesh.LoadGen;

/// <summary>
/// A process the bench started (the baseline, the server, etcd): its output drained line by line (a full pipe would
/// stall it), its readiness line awaited, its CPU time and resident memory read from outside, and killed with its
/// whole tree when disposed. Every child still running when the bench exits (Ctrl+C, the budget) is killed too.
/// </summary>
internal sealed class ChildProcess : IAsyncDisposable
{
    private static readonly ConcurrentDictionary<int, Process> s_running = new();
    private static int s_exitHookInstalled;

    private readonly Process _process;
    private readonly string? _readyPrefix;
    private readonly bool _forward;
    private readonly Action<string>? _onStdout;
    private readonly TaskCompletionSource<string> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Queue<string> _tail = new();
    private readonly Lock _lock = new();
    private int _disposed;

    private ChildProcess(Process process, string name, string? readyPrefix, bool forward, Action<string>? onStdout)
    {
        _process = process;
        Name = name;
        _readyPrefix = readyPrefix;
        _forward = forward;
        _onStdout = onStdout;
    }

    public string Name { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>
    /// Starts <paramref name="info"/> with its output redirected. With <paramref name="readyPrefix"/>, <see cref="ReadyLineAsync"/>
    /// completes with the rest of the first stdout line that starts with it. <paramref name="forward"/> copies the child's
    /// output to this process's stderr, prefixed with its name; the last lines are kept either way for error messages.
    /// <paramref name="onStdout"/>, when given, gets every stdout line as it comes.
    /// </summary>
    public static ChildProcess Start(string name, ProcessStartInfo info, string? readyPrefix, bool forward, Action<string>? onStdout = null)
    {
        if (Interlocked.Exchange(ref s_exitHookInstalled, 1) == 0)
        {
            AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();
        }
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.RedirectStandardInput = true;
        info.UseShellExecute = false;
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var child = new ChildProcess(process, name, readyPrefix, forward, onStdout);
        process.OutputDataReceived += (_, e) => child.OnLine(e.Data, stdout: true);
        process.ErrorDataReceived += (_, e) => child.OnLine(e.Data, stdout: false);
        process.Exited += (_, _) => child._ready.TrySetException(new InvalidOperationException(
            $"{name} exited (code {SafeExitCode(process)}) before it was ready. Its last output:{Environment.NewLine}{child.Tail()}"));
        process.Start();
        s_running[process.Id] = process;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>The readiness line (its text after the prefix), or throws when the child exits or <paramref name="timeout"/> passes first.</summary>
    public async Task<string> ReadyLineAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            return await _ready.Task.WaitAsync(timeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new InvalidOperationException($"{Name} printed no '{_readyPrefix}' line within {timeout.TotalSeconds:0} s. Its last output:{Environment.NewLine}{Tail()}");
        }
    }

    /// <summary>Writes <paramref name="lines"/> to the child's stdin, then closes it when <paramref name="close"/>.</summary>
    public async Task WriteInputAsync(IEnumerable<string> lines, bool close, CancellationToken cancellationToken)
    {
        var input = _process.StandardInput;
        foreach (var line in lines)
        {
            await input.WriteLineAsync(line.AsMemory(), cancellationToken);
        }
        await input.FlushAsync(cancellationToken);
        if (close)
        {
            input.Close();
        }
    }

    /// <summary>Waits up to <paramref name="timeout"/> for the child to exit by itself; false when it did not.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            await _process.WaitForExitAsync(cancellationToken).WaitAsync(timeout, cancellationToken);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    /// <summary>The last lines the child wrote, for an error message.</summary>
    public string Tail()
    {
        lock (_lock)
        {
            return string.Join(Environment.NewLine, _tail);
        }
    }

    /// <summary>User + system CPU time the child has used so far.</summary>
    public TimeSpan CpuTime()
    {
        try
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
        catch (InvalidOperationException)
        {
            return TimeSpan.Zero;
        }
    }

    /// <summary>The child's resident set size (<c>VmRSS</c> in /proc/PID/status) in bytes; 0 where there is no /proc.</summary>
    public long ResidentBytes() => ReadStatusKb("VmRSS:") * 1024;

    /// <summary>The child's peak resident set size (<c>VmHWM</c>) in bytes.</summary>
    public long PeakResidentBytes() => ReadStatusKb("VmHWM:") * 1024;

    /// <summary>
    /// Asks the child to stop as a service manager does (SIGTERM, through <c>kill</c>), and waits up to
    /// <paramref name="timeout"/> for it to exit; returns how long it took, or null when it did not exit in time.
    /// </summary>
    public async Task<TimeSpan?> TerminateAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        using (var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", Pid.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false }))
        {
            if (kill is not null)
            {
                await kill.WaitForExitAsync(cancellationToken);
            }
        }
        try
        {
            await _process.WaitForExitAsync(cancellationToken).WaitAsync(timeout, cancellationToken);
            return Stopwatch.GetElapsedTime(started);
        }
        catch (TimeoutException)
        {
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        try
        {
            if (!_process.HasExited)
            {
                // The bench owns every byte the child wrote (temp directories), so there is nothing to shut down gracefully.
                _process.Kill(entireProcessTree: true);
            }
            await _process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        catch (InvalidOperationException)
        {
            // Never started or already reaped.
        }
        finally
        {
            s_running.TryRemove(_process.Id, out _);
            _process.Dispose();
        }
    }

    private void OnLine(string? line, bool stdout)
    {
        if (line is null)
        {
            return;
        }
        lock (_lock)
        {
            _tail.Enqueue(line);
            while (_tail.Count > 30)
            {
                _tail.Dequeue();
            }
        }
        if (stdout)
        {
            _onStdout?.Invoke(line);
        }
        if (stdout && _readyPrefix is not null && line.StartsWith(_readyPrefix, StringComparison.Ordinal))
        {
            _ready.TrySetResult(line[_readyPrefix.Length..].Trim());
        }
        if (_forward)
        {
            Console.Error.WriteLine($"[{Name}] {line}");
        }
    }

    private long ReadStatusKb(string field)
    {
        try
        {
            var line = File.ReadLines($"/proc/{Pid}/status").FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            return 0;
        }
    }

    private static string SafeExitCode(Process process)
    {
        try
        {
            return process.ExitCode.ToString(CultureInfo.InvariantCulture);
        }
        catch (InvalidOperationException)
        {
            return "?";
        }
    }

    private static void KillAll()
    {
        foreach (var process in s_running.Values)
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
            {
            }
        }
    }
}
