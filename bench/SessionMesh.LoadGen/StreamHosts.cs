using System.Diagnostics;
using System.Globalization;

namespace SessionMesh.LoadGen;

/// <summary>
/// A fleet's command streams held in <c>N</c> processes of their own (<see cref="StreamHost"/>), so that no one
/// process holds all of them and pauses for a collection of all their objects: the agents of a real fleet are
/// processes of their own. The frames the hosts read come back as lines and are matched here, in the process that
/// sends the steers; both stamp times with <see cref="Stopwatch.GetTimestamp"/>, the machine's one monotonic clock.
/// </summary>
internal sealed class StreamHosts : IStreamFleet
{
    private static readonly TimeSpan s_openTimeout = TimeSpan.FromMinutes(5);

    private readonly List<ChildProcess> _hosts = [];
    private long _lost;
    private int _count;

    private StreamHosts()
    {
    }

    /// <summary>How many streams the hosts hold.</summary>
    public int Count => _count;

    /// <summary>Streams the server ended or that broke before the bench closed them (should stay 0).</summary>
    public long Lost => Interlocked.Read(ref _lost);

    /// <summary>
    /// Starts <paramref name="processes"/> hosts, gives each its share of <paramref name="agentIds"/> (round robin), and
    /// returns once every stream of every host is attached. Their frames go to <paramref name="frames"/>.
    /// </summary>
    public static async Task<StreamHosts> OpenAsync(Target server, IReadOnlyList<string> agentIds, int processes, int parallelism, int sourceAddresses,
        SteerFrames frames, CancellationToken cancellationToken)
    {
        var hosts = new StreamHosts();
        try
        {
            var shares = Enumerable.Range(0, processes).Select(p => agentIds.Where((_, i) => i % processes == p).ToList()).ToList();
            for (var p = 0; p < processes; p++)
            {
                var info = Targets.DotnetStart(typeof(StreamHosts).Assembly.Location, [StreamHost.Argument]);
                info.Environment[StreamHost.UrlVariable] = server.BaseAddress.ToString();
                info.Environment[StreamHost.KeyVariable] = server.Key;
                info.Environment[StreamHost.SourcesVariable] = sourceAddresses.ToString(CultureInfo.InvariantCulture);
                info.Environment[StreamHost.ParallelismVariable] = Math.Max(1, parallelism / processes).ToString(CultureInfo.InvariantCulture);
                hosts._hosts.Add(ChildProcess.Start($"stream host {p + 1}", info, "ready ", forward: false, line => hosts.OnLine(line, frames)));
            }
            await Task.WhenAll(hosts._hosts.Select((host, p) => host.WriteInputAsync([.. shares[p], ""], close: false, cancellationToken)));
            foreach (var ready in await Task.WhenAll(hosts._hosts.Select(host => host.ReadyLineAsync(s_openTimeout, cancellationToken))))
            {
                var parts = ready.Split(' ');
                if (long.Parse(parts[1], CultureInfo.InvariantCulture) != Stopwatch.Frequency)
                {
                    throw new InvalidOperationException("A stream host's clock ticks at another frequency: its arrival times cannot be compared with the steers'.");
                }
                hosts._count += int.Parse(parts[0], CultureInfo.InvariantCulture);
            }
            return hosts;
        }
        catch
        {
            await hosts.DisposeAsync();
            throw;
        }
    }

    /// <summary>The resident memory of all the hosts together, in bytes.</summary>
    public long ResidentBytes() => _hosts.Sum(host => host.ResidentBytes());

    public async ValueTask DisposeAsync()
    {
        // Closing a host's stdin asks it to close its streams and exit; disposing kills one that does not.
        foreach (var host in _hosts.Where(host => !host.HasExited))
        {
            await host.WriteInputAsync([], close: true, CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        await Task.WhenAll(_hosts.Select(host => host.WaitForExitAsync(TimeSpan.FromSeconds(15), CancellationToken.None)));
        foreach (var host in _hosts)
        {
            await host.DisposeAsync();
        }
    }

    private void OnLine(string line, SteerFrames frames)
    {
        if (line.StartsWith("cmd ", StringComparison.Ordinal))
        {
            var rest = line.AsSpan(4);
            var space = rest.IndexOf(' ');
            var arrived = long.Parse(rest[..space], CultureInfo.InvariantCulture);
            var direction = rest[(space + 1)..];
            frames.OnFrame(direction.IsEmpty ? null : direction.ToString(), arrived);
        }
        else if (line == "lost")
        {
            Interlocked.Increment(ref _lost);
        }
    }
}
