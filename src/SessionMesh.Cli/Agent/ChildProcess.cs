using System.Diagnostics;
using System.Text;

namespace SessionMesh.Cli.Agent;

/// <summary>
/// The wrapped program: started in its own session and process group (through <c>setsid</c>), its standard input
/// open for directives, each line of its stdout and stderr passed to <c>onLine</c> as it comes.
/// </summary>
internal sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly TaskCompletionSource<int> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _stdin = new(1, 1);

    private ChildProcess(Process process) => _process = process;

    public int Pid => _process.Id;

    /// <summary>Completes with the exit code (128 + the signal for a child a signal ended) when the child itself exits.</summary>
    public Task<int> Exited => _exited.Task;

    /// <summary>Starts <paramref name="command"/>; <paramref name="environment"/> entries are added to the inherited environment.</summary>
    public static ChildProcess Start(string command, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string> environment, Action<LogStream, string> onLine)
    {
        var setsid = OperatingSystem.IsLinux() ? ExecutableLookup.Find("setsid") : null;
        var start = new ProcessStartInfo(setsid ?? command)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardInputEncoding = new UTF8Encoding(false),
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        if (setsid is not null)
        {
            // setsid(1) is not a group leader when we start it, so it calls setsid() and execs the command in place:
            // the pid we hold is the command's, and it leads its own session and process group.
            start.ArgumentList.Add(command);
        }
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var child = new ChildProcess(process);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                onLine(LogStream.Stdout, e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                onLine(LogStream.Stderr, e.Data);
            }
        };
        process.Exited += (_, _) => child._exited.TrySetResult(process.ExitCode);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>
    /// Writes one line to the child's standard input; false when the child no longer reads it (exited, closed stdin),
    /// or does not take it within <paramref name="timeout"/> (its stdin pipe is full): the caller must not wait on a
    /// child that never reads, or a kill behind the directive would wait too. A write that timed out finishes (or
    /// fails) in the background, and the next line waits for it.
    /// </summary>
    public async Task<bool> HandAsync(string line, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (!await _stdin.WaitAsync(timeout, cancellationToken))
        {
            return false;
        }
        var write = WriteLineAsync(line);
        if (await Task.WhenAny(write, Task.Delay(timeout, cancellationToken)) != write)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return false;
        }
        return await write;
    }

    private async Task<bool> WriteLineAsync(string line)
    {
        try
        {
            var stdin = _process.StandardInput;
            await stdin.WriteAsync(line.AsMemory(), CancellationToken.None);
            await stdin.WriteAsync("\n".AsMemory(), CancellationToken.None);
            await stdin.FlushAsync(CancellationToken.None);
            return true;
        }
        catch (IOException)
        {
            return false; // EPIPE: nobody reads the other end
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
        finally
        {
            _stdin.Release();
        }
    }

    /// <summary>
    /// Stops the child and every process it started: SIGTERM, SIGKILL after <paramref name="grace"/>; returns once none
    /// is left and the child's exit is known. True when SIGKILL was needed.
    /// </summary>
    public async Task<bool> StopTreeAsync(TimeSpan grace, TimeProvider time)
    {
        bool forced;
        if (OperatingSystem.IsLinux())
        {
            forced = await TreeKill.KillAsync(Pid, grace, time);
        }
        else
        {
            // No /proc to walk: .NET's own tree kill (immediate).
            _process.Kill(entireProcessTree: true);
            forced = true;
        }
        await _exited.Task;
        return forced;
    }

    /// <summary>
    /// Waits, at most <paramref name="timeout"/>, until every line the child wrote to stdout and stderr has been passed
    /// to <c>onLine</c>: its exit is known before its last lines are read, so a caller that ships them must wait for
    /// this after the exit. Call it once the tree is stopped: a process left holding the pipes would keep them open.
    /// </summary>
    public async Task OutputReadAsync(TimeSpan timeout)
    {
        using var limit = new CancellationTokenSource(timeout);
        try
        {
            // With the output read by events, this also waits for both pipes' end and the last line's event.
            await _process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException) when (limit.IsCancellationRequested)
        {
        }
    }

    public void Dispose()
    {
        _process.Dispose();
        _stdin.Dispose();
    }
}

/// <summary>Which output stream a line came from.</summary>
internal enum LogStream
{
    Stdout,
    Stderr,
}
