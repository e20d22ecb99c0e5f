using System.Diagnostics;
using System.Globalization;
using System.Net.ServerSentEvents;
using System.Text.Json;

namespace SessionMesh.LoadGen;

/// <summary>
/// The soak run (<c>--scenario soak</c>): a fleet of agents heartbeating for a long time against one server, with a
/// steady stream of steers (to agents holding command streams, which ack them) and of forced kills (the killed agent
/// sees 410 on its next heartbeat and joins again, so the fleet keeps its size). Open loop: calls are sent on
/// schedule, not when the previous answer comes. Reports the server's RSS at the start and end of the load, errors,
/// and p50/p99 per kind of call per minute.
/// </summary>
internal static class SoakBench
{
    private static readonly TimeSpan s_requestTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan s_tick = TimeSpan.FromMilliseconds(100);

    /// <summary>Calls that may wait for their answer at once; past it the schedule is behind and calls are skipped (and counted).</summary>
    private const int MaxInFlight = 2048;

    public static async Task<string> RunAsync(LoadGenOptions options, CancellationToken cancellationToken)
    {
        var loadAverage = Bench.LoadAverage();
        Bench.Progress($"soak: starting a server; {options.SoakAgents} agents for {options.SoakMinutes} min");
        await using var server = await Targets.StartServerAsync(options, cancellationToken);
        using var http = server.CreateClient(authenticated: true, s_requestTimeout);
        var ttl = options.SoakHeartbeatSeconds * 3;
        var agents = Enumerable.Range(0, options.SoakAgents).Select(i => $"soak-{i}").ToArray();
        var sessions = await MeshApi.JoinManyAsync(http, agents, ttl, 64, cancellationToken);
        Bench.Progress($"soak: {agents.Length} agents joined; opening {options.SoakStreams} command streams");

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var streamClient = server.CreateStreamClient(1);
        var recorder = new SoakRecorder(server.Process, options.SoakMinutes);
        using var run = new Run(options, http, agents, sessions, ttl, recorder, stop.Token);
        var streams = agents.Take(options.SoakStreams).Select(agent => run.HoldStreamAsync(streamClient, agent)).ToList();

        Bench.Progress($"soak: load on for {options.SoakMinutes} min (RSS {recorder.StartRss / 1048576.0:0.0} MB)");
        await run.DriveAsync(TimeSpan.FromMinutes(options.SoakMinutes));
        recorder.SampleRss();
        await stop.CancelAsync();
        await Task.WhenAll(streams);
        await run.DrainAsync();

        var setup = string.Create(CultureInfo.InvariantCulture,
            $"{options.SoakAgents} agents (TTL {ttl} s) heartbeating every {options.SoakHeartbeatSeconds} s, {options.SoakStreams} of them holding command streams and acking; "
            + $"{options.SoakSteerRate} steers/s to those, {options.SoakKillsPerMinute} forced kills/min of the others (each rejoins on its next heartbeat's 410). "
            + $"Load average before the run: {loadAverage}. Server: {server.Description}.");
        return recorder.Render($"Soak: {options.SoakAgents} agents, {options.SoakMinutes} min", options.CommandLine(), setup);
    }

    private sealed class Run(LoadGenOptions options, HttpClient http, string[] agents, string[] sessions, int ttl, SoakRecorder recorder, CancellationToken stop) : IDisposable
    {
        private readonly SemaphoreSlim _inFlight = new(MaxInFlight);
        private readonly List<Task> _calls = [];
        private long _steers;

        /// <summary>Sends heartbeats, steers and kills on schedule for <paramref name="duration"/>, sampling RSS each second.</summary>
        public async Task DriveAsync(TimeSpan duration)
        {
            var clock = Stopwatch.StartNew();
            long heartbeats = 0, steers = 0, kills = 0;
            var random = new Random(7);
            using var timer = new PeriodicTimer(s_tick);
            var lastSample = TimeSpan.Zero;
            while (clock.Elapsed < duration && await timer.WaitForNextTickAsync(stop))
            {
                var seconds = clock.Elapsed.TotalSeconds;
                for (; heartbeats < (long)(seconds * agents.Length / options.SoakHeartbeatSeconds); heartbeats++)
                {
                    var index = (int)(heartbeats % agents.Length);
                    Send("heartbeat", () => HeartbeatAsync(index));
                }
                if (options.SoakStreams > 0)
                {
                    for (; steers < (long)(seconds * options.SoakSteerRate); steers++)
                    {
                        var target = agents[random.Next(options.SoakStreams)];
                        Send("steer", () => SteerAsync(target));
                    }
                }
                if (agents.Length > options.SoakStreams)
                {
                    for (; kills < (long)(seconds * options.SoakKillsPerMinute / 60); kills++)
                    {
                        var victim = agents[random.Next(options.SoakStreams, agents.Length)];
                        Send("kill", () => KillAsync(victim));
                    }
                }
                if (clock.Elapsed - lastSample >= TimeSpan.FromSeconds(1))
                {
                    recorder.SampleRss();
                    lastSample = clock.Elapsed;
                }
            }
        }

        public void Dispose() => _inFlight.Dispose();

        /// <summary>Waits for the calls still in flight.</summary>
        public async Task DrainAsync()
        {
            Task[] calls;
            lock (_calls)
            {
                calls = [.. _calls];
            }
            await Task.WhenAll(calls);
        }

        /// <summary>One agent's command stream: acks every command that comes, and opens it again if it drops.</summary>
        public async Task HoldStreamAsync(HttpClient streamClient, string agent)
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    using var response = await MeshApi.OpenCommandStreamAsync(streamClient, agent, stop);
                    await using var body = await response.Content.ReadAsStreamAsync(stop);
                    await foreach (var item in SseParser.Create(body).EnumerateAsync(stop))
                    {
                        if (item.EventType == "command")
                        {
                            using var command = JsonDocument.Parse(item.Data);
                            var commandId = command.RootElement.GetProperty("command_id").GetString()!;
                            Send("ack", () => TimedAsync("ack", HttpMethod.Post, $"api/session-mesh/agents/{agent}/commands/{commandId}/ack", """{"status":"acked"}""", 200));
                        }
                        else if (item.EventType == "end")
                        {
                            recorder.Error("stream", $"{agent}'s stream ended: {item.Data}");
                            break;
                        }
                    }
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex) when (ex is HttpRequestException or IOException or InvalidOperationException)
                {
                    recorder.Error("stream", $"{agent}: {ex.Message}");
                }
            }
        }

        private void Send(string kind, Func<Task> call)
        {
            if (!_inFlight.Wait(0))
            {
                recorder.Count($"{kind} skipped (behind)");
                return;
            }
            var task = Task.Run(async () =>
            {
                try
                {
                    await call();
                }
                finally
                {
                    _inFlight.Release();
                }
            }, CancellationToken.None);
            lock (_calls)
            {
                _calls.RemoveAll(t => t.IsCompleted);
                _calls.Add(task);
            }
        }

        private async Task HeartbeatAsync(int index)
        {
            var status = await TimedAsync("heartbeat", HttpMethod.Post, MeshApi.HeartbeatPath(Volatile.Read(ref sessions[index])), MeshApi.HeartbeatBody, 200, 410);
            if (status == 410)
            {
                // Killed (or, if the schedule fell behind its TTL, expired): the agent joins again, as a supervisor would restart it.
                recorder.Count("rejoins after 410");
                var clock = Stopwatch.StartNew();
                try
                {
                    Volatile.Write(ref sessions[index], await MeshApi.JoinAsync(http, agents[index], ttl, stop));
                    recorder.Ok("join", clock.Elapsed);
                }
                catch (Exception ex) when (ex is HttpRequestException or InvalidOperationException or TaskCanceledException)
                {
                    recorder.Error("join", ex.Message);
                }
            }
        }

        private Task SteerAsync(string target) =>
            TimedAsync("steer", HttpMethod.Post, MeshApi.SteerPath, MeshApi.SteerBody(target, $"soak-{Interlocked.Increment(ref _steers)}"), 200);

        private Task KillAsync(string victim) =>
            TimedAsync("kill", HttpMethod.Delete, $"api/session-mesh/agents/{victim}?force=true&cascade=false", null, 200);

        /// <summary>One call, timed; an answer other than <paramref name="expected"/> (or an exception) is an error. Returns the status, 0 on an exception.</summary>
        private async Task<int> TimedAsync(string kind, HttpMethod method, string path, string? body, params int[] expected)
        {
            var clock = Stopwatch.StartNew();
            try
            {
                var status = await MeshApi.SendAsync(http, method, path, body, CancellationToken.None);
                if (expected.Contains(status))
                {
                    recorder.Ok(kind, clock.Elapsed);
                }
                else
                {
                    recorder.Error(kind, $"{method} {path} answered {status}");
                }
                return status;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                recorder.Error(kind, $"{method} {path}: {ex.Message}");
                return 0;
            }
        }
    }
}
