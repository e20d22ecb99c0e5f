using System.Collections.Concurrent;
using SessionMesh.Cli.Agent;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Agent;

/// <summary>
/// A child's exit is known before its last lines are read: the wrapper waits for them before it ships its log's last
/// batch, or they were lost without being counted (seen in CI: a 100,000-line child's last thousand lines missing).
/// </summary>
public sealed class ChildOutputTests
{
    [Fact]
    public async Task Output_read_waits_for_the_lines_a_child_wrote_before_it_exited()
    {
        using var reading = new ManualResetEventSlim(false);
        var lines = new ConcurrentQueue<string>();
        using var child = ChildProcess.Start("bash", ["-c", "for i in $(seq 1 1000); do echo line $i; done"], new Dictionary<string, string>(),
            (_, text) =>
            {
                // The reader is held until the exit is known: 1,000 short lines fit in the pipe, so the child exits first.
                reading.Wait(TimeSpan.FromSeconds(30));
                lines.Enqueue(text);
            });

        Assert.Equal(0, await child.Exited.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken));
        Assert.True(lines.Count < 1000, $"all {lines.Count} lines were read before the exit was known");
        reading.Set();
        await child.OutputReadAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(1000, lines.Count);
        Assert.Equal("line 1000", lines.Last());
    }

    [Fact]
    public async Task Output_read_gives_up_after_its_timeout_when_a_process_keeps_the_pipe_open()
    {
        using var temp = new TempDirectory();
        var pidFile = Path.Combine(temp.Path, "pid");
        // The child leaves a background process holding its stdout: the pipe stays open after the child exits.
        using var child = ChildProcess.Start("bash", ["-c", $"sleep 30 & echo $! > {pidFile}; echo done"], new Dictionary<string, string>(), (_, _) => { });
        try
        {
            Assert.Equal(0, await child.Exited.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken));
            var waited = System.Diagnostics.Stopwatch.StartNew();
            await child.OutputReadAsync(TimeSpan.FromMilliseconds(300));
            Assert.InRange(waited.Elapsed, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(10));
        }
        finally
        {
            if (File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), out var pid))
            {
                try
                {
                    using var leftover = System.Diagnostics.Process.GetProcessById(pid);
                    leftover.Kill();
                }
                catch (ArgumentException)
                {
                }
            }
        }
    }
}
