using System.Net;
using System.Net.Sockets;
using System.Text;
using SessionMesh.Cli;
using SessionMesh.Client;
using SessionMesh.Contracts;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Cli;

/// <summary>`watch` and `list --watch` outlive a server restart: they say they are reconnecting and resume where they were.</summary>
public sealed class WatchReconnectTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Watch_and_list_watch_reconnect_across_a_restart_and_resume_after_the_last_revision()
    {
        using var temp = new TempDirectory();
        var listen = $"http://127.0.0.1:{FreePort()}";
        string[] serveArgs = ["--listen", listen, "--data-dir", "data"];
        var first = ServeProcess.Start(temp.Path, serveArgs);
        await first.AddressAsync();
        var key = await first.RootKeyAsync();
        using var sdk = new SessionMeshClient(new Uri(listen), key);

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var watchOut = new LineWriter();
        var watchErr = new LineWriter();
        var listOut = new LineWriter();
        var listErr = new LineWriter();
        var watch = CliApp.RunAsync(["watch", "--since", "0", "--output", "json"], Console(listen, key, watchOut, watchErr), stop.Token);
        var list = CliApp.RunAsync(["list", "--watch", "--output", "json"], Console(listen, key, listOut, listErr), stop.Token);
        await listOut.WaitForAsync("\"items\"");

        // --since 0 replays from the start, so the test does not depend on when the watch subscribed.
        await sdk.JoinAsync(new JoinRequest { AgentId = "before", Ttl = 300 }, Ct);
        await watchOut.WaitForAsync("\"before\"");
        await listOut.WaitForAsync("\"before\"");

        await first.StopAsync();
        await first.DisposeAsync();
        await watchErr.WaitForAsync("reconnecting");
        await listErr.WaitForAsync("reconnecting");

        await using var second = ServeProcess.Start(temp.Path, serveArgs);
        await second.AddressAsync();
        await sdk.JoinAsync(new JoinRequest { AgentId = "after", Ttl = 300 }, Ct);
        await watchOut.WaitForAsync("\"after\"");
        await listOut.WaitForAsync("\"after\"");

        await stop.CancelAsync();
        Assert.Equal(0, await watch.WaitAsync(TestTimeouts.Event, Ct));
        Assert.Equal(0, await list.WaitAsync(TestTimeouts.Event, Ct));
        // Resumed after the last revision: the event seen before the restart is not printed again.
        Assert.Single(watchOut.Lines, line => line.Contains("\"session.joined\"", StringComparison.Ordinal) && line.Contains("\"before\"", StringComparison.Ordinal));
        Assert.Contains($"lost the server at {listen}/", watchErr.Text, StringComparison.Ordinal);
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    private static CliConsole Console(string server, string key, LineWriter output, LineWriter error) => new()
    {
        Out = TextWriter.Synchronized(output),
        Error = TextWriter.Synchronized(error),
        In = new StringReader(""),
        GetEnvironmentVariable = name => name switch
        {
            "SESSION_MESH_URL" => server,
            "SESSION_API_KEY" => key,
            "NO_COLOR" => "1",
            _ => null,
        },
    };

    /// <summary>A writer whose lines a test can await as they are written.</summary>
    private sealed class LineWriter : TextWriter
    {
        private readonly StringBuilder _text = new();
        private readonly List<(string Needle, TaskCompletionSource Seen)> _waiters = [];

        public override Encoding Encoding => Encoding.UTF8;

        public string Text { get { lock (_text) { return _text.ToString(); } } }

        public string[] Lines => Text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

        public override void Write(char value)
        {
            lock (_text)
            {
                _text.Append(value);
                if (value != '\n')
                {
                    return;
                }
                var text = _text.ToString();
                foreach (var waiter in _waiters.Where(w => text.Contains(w.Needle, StringComparison.Ordinal)).ToList())
                {
                    waiter.Seen.TrySetResult();
                    _waiters.Remove(waiter);
                }
            }
        }

        public Task WaitForAsync(string needle)
        {
            var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_text)
            {
                if (_text.ToString().Contains(needle, StringComparison.Ordinal))
                {
                    return Task.CompletedTask;
                }
                _waiters.Add((needle, seen));
            }
            return WaitAsync(seen.Task, needle);
        }

        private async Task WaitAsync(Task seen, string needle)
        {
            try
            {
                await seen.WaitAsync(TestTimeouts.Request, Ct);
            }
            catch (TimeoutException)
            {
                throw new TimeoutException($"'{needle}' was not written; so far:\n{Text}");
            }
        }
    }
}
