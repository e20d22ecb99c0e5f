using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace SessionMesh.LoadGen;

/// <summary>
/// The scale run (<c>--scenario scale</c>): the engine's scale targets, each against the real server in its own process.
/// The first server takes the join-with-watchers comparison, the command streams (memory, then open-loop steers) and the
/// expiry of many leases at once; a second, fresh one takes GET /alive at many sessions, then the restart with them and
/// their queued commands. Every server is killed and its directory deleted at the end, whatever happened.
/// </summary>
internal static class ScaleBench
{
    private static readonly TimeSpan s_requestTimeout = TimeSpan.FromSeconds(10);

    /// <summary>So that a watcher that falls behind the expiry storm reads from the store instead of being told it was compacted.</summary>
    private static readonly string[] s_serverSettings = ["--Mesh:EventRetention=100000000", "--Mesh:EventRetentionBytes=100000000000"];

    /// <summary>Connections of the two join windows (without and with the watchers).</summary>
    private const int JoinConnections = 16;

    /// <summary>Steers that may wait for their answer at once; a sender at this cap falls behind the schedule.</summary>
    private const int MaxSteersInFlight = 4096;

    private const int AliveWarmup = 20;

    public static async Task<string> RunAsync(LoadGenOptions options, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var loadAverage = Bench.LoadAverage();
        var rows = new List<ScaleRow>();
        var processes = new List<string>();
        var limit = FileDescriptors.Limit();
        Bench.Progress($"scale run; open-file limit {limit?.ToString(CultureInfo.InvariantCulture) ?? "unknown"}");

        Bench.Progress("starting the bare relay for the steer row's floor ...");
        SteerWindow? floor = null;
        try
        {
            await using var relay = await Targets.StartBaselineAsync(options, cancellationToken, relay: true);
            var bare = new Scenarios(options, relay, rows, cancellationToken);
            await bare.OneAsync("1r", "steer → frame through a bare relay", bare.RelayAsync);
            floor = bare.Floor;
            processes.Add(Describe(relay, "row 1r"));
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Bench.Progress($"1r (the bare relay) did not start: {ex.Message}");
            rows.Add(new("1r", "steer → frame through a bare relay", "failed", "reported", null, ex.GetType().Name + ": " + ex.Message.ReplaceLineEndings(" ")));
        }
        Bench.Progress("starting a server for the watchers, the streams and the expiry ...");
        await using (var server = await Targets.StartServerAsync(options, cancellationToken, settings: s_serverSettings))
        {
            var first = new Scenarios(options, server, rows, cancellationToken) { Floor = floor };
            await first.OneAsync("6", "join p99 with idle watchers", first.JoinWithWatchersAsync);
            await first.OneAsync("1", "steer → frame", first.StreamsAsync);
            if (options.ScaleRssStreams > 0)
            {
                await first.OneAsync("2b", "server RSS with more streams", first.MoreStreamsAsync);
            }
            await first.OneAsync("4", "expiry of leases ending together", first.ExpiryAsync);
            processes.Add(Describe(server, "rows 1, 2, 4, 6"));
        }
        Bench.Progress("starting a fresh server for GET /alive and the restart ...");
        var second = await Targets.StartServerAsync(options, cancellationToken, settings: s_serverSettings);
        var run = new Scenarios(options, second, rows, cancellationToken);
        try
        {
            await run.OneAsync("3", "GET /alive at many sessions", run.AliveAsync);
            await run.OneAsync("5", "restart with sessions and queued commands", run.RestartAsync);
            processes.Add(Describe(run.Restarted ?? second, "rows 3 and 5, after the restart"));
        }
        finally
        {
            // The restarted server shares the first one's directory: whichever is disposed first deletes it.
            if (run.Restarted is { } restarted)
            {
                await restarted.DisposeAsync();
            }
            await second.DisposeAsync();
            Bench.Progress("stopped every server and deleted their temp directories");
        }
        rows.Sort((a, b) => string.CompareOrdinal(a.Id, b.Id));
        return ScaleReport.Render(options, rows, processes, limit, loadAverage, Stopwatch.GetElapsedTime(started));
    }

    private static string Describe(Target target, string rows) => string.Create(CultureInfo.InvariantCulture,
        $"{target.Name} ({rows}): {target.Description}, pid {target.Process.Pid}, on {target.BaseAddress}; peak RSS {target.Process.PeakResidentBytes() / 1048576.0:0.0} MB");

    private static string Ms(double value) => double.IsNaN(value) ? "–" : value.ToString(value >= 100 ? "0" : "0.00", CultureInfo.InvariantCulture);

    private static string Mb(long bytes) => (bytes / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture);

    /// <summary>The scenarios against one server; each adds its row, or a row saying why it failed.</summary>
    private sealed class Scenarios(LoadGenOptions options, Target server, List<ScaleRow> rows, CancellationToken cancellationToken)
    {
        private ParallelOptions Parallelism => new() { MaxDegreeOfParallelism = options.ScaleParallelism, CancellationToken = cancellationToken };

        /// <summary>Runs one scenario; a failure (not the budget) becomes its row, so the others still run.</summary>
        public async Task OneAsync(string id, string name, Func<Task> scenario)
        {
            try
            {
                await scenario();
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                Bench.Progress($"{id} ({name}) failed: {ex.Message}");
                rows.Add(new(id, name, "failed", "–", false, ex.GetType().Name + ": " + ex.Message.ReplaceLineEndings(" ")));
            }
        }

        /// <summary>
        /// What an idle watcher watches: the events of a cluster nobody writes to (the joins go to <c>default</c>), so it
        /// receives nothing and measures only what a watcher costs the server per commit elsewhere.
        /// </summary>
        private const string IdleWatchPath = MeshApi.EventsPath + "?cluster=quiet";

        /// <summary>6: closed-loop joins without, then with, idle <c>GET /events</c> watchers; p99 with ≤ 1.2 × p99 without.</summary>
        public async Task JoinWithWatchersAsync()
        {
            // The first window also warms the server's joins up (JIT tiers), so that "without" is not the cold one.
            var without = await JoinWindowAsync("without watchers", LoadGenOptions.LeadIn + options.Warmup);
            if (FileDescriptors.Shortfall(options.ScaleWatchers) is { } shortfall)
            {
                rows.Add(new("6", $"join p99 with {options.ScaleWatchers} idle `/events` watchers", "–", "≤ 1.20×", null, shortfall));
                return;
            }
            Bench.Progress($"6: opening {options.ScaleWatchers} idle /events watchers ...");
            using var watchClient = server.CreateStreamClient(SourceAddresses(options.ScaleWatchers));
            Measurement with;
            long broken;
            await using (var watchers = await EventWatchers.OpenAsync(watchClient, options.ScaleWatchers, options.ScaleParallelism, onFrame: null, cancellationToken, IdleWatchPath))
            {
                with = await JoinWindowAsync($"with {watchers.Count} watchers", LoadGenOptions.LeadIn);
                broken = watchers.Broken;
            }
            var ratio = with.PercentileMs(99) / without.PercentileMs(99);
            rows.Add(new("6", $"join p99 with {options.ScaleWatchers} idle `/events` watchers", string.Create(CultureInfo.InvariantCulture, $"{ratio:0.00}× ({Ms(with.PercentileMs(99))} ms vs {Ms(without.PercentileMs(99))} ms)"),
                "≤ 1.20×", ratio <= 1.2 && with.Failed == 0 && broken == 0,
                string.Create(CultureInfo.InvariantCulture, $"{JoinConnections} closed-loop connections, {options.Duration.TotalSeconds:0} s each: without {without.PerSecond:0} joins/s, p50 {Ms(without.PercentileMs(50))} ms, errors {without.ErrorSummary}; with {with.PerSecond:0} joins/s, p50 {Ms(with.PercentileMs(50))} ms, errors {with.ErrorSummary}; watches broken {broken}.")));
        }

        private async Task<Measurement> JoinWindowAsync(string phase, TimeSpan leadIn)
        {
            var tag = phase.StartsWith("with ", StringComparison.Ordinal) ? "w" : "o";
            var clients = Enumerable.Range(0, JoinConnections).Select(_ => server.CreateClient(authenticated: true, s_requestTimeout)).ToList();
            try
            {
                Bench.Progress($"6: joins {phase}: {leadIn.TotalSeconds:0} s lead-in + {options.Duration.TotalSeconds:0} s ...");
                var result = await ClosedLoop.RunAsync($"join {phase}", clients, leadIn, options.Duration, options.MaxRequestsPerWorker,
                    (w, ct) => MeshApi.SendAsync(w.Http, HttpMethod.Post, MeshApi.SessionsPath, MeshApi.JoinBody(string.Create(CultureInfo.InvariantCulture, $"j6{tag}-{w.Index}-{w.Iteration}")), ct),
                    server.Process, cancellationToken);
                Bench.Progress($"6: joins {phase}: {result.PerSecond:0}/s, p99 {Ms(result.PercentileMs(99))} ms, errors {result.ErrorSummary}");
                return result;
            }
            finally
            {
                clients.ForEach(c => c.Dispose());
            }
        }

        /// <summary>Row 1r's steer window, which row 1 is set against; null until <see cref="RelayAsync"/> ran (or when it failed).</summary>
        public SteerWindow? Floor { get; set; }

        /// <summary>1 and 2: N agents holding command streams (the server's RSS with them open), then steers offered open loop, each matched on its agent's stream.</summary>
        public async Task StreamsAsync()
        {
            var count = options.ScaleStreams;
            if (FileDescriptors.Shortfall(count + MaxSteersInFlight / 4) is { } shortfall)
            {
                rows.Add(new("1", $"steer → frame, {count} streams open", "–", "p50 ≤ 2 ms, p99 ≤ 10 ms, none lost", null, shortfall));
                rows.Add(new("2", $"server RSS with {count} command streams open", "–", "≤ 600 MB", null, shortfall));
                return;
            }
            var agents = await JoinAsync("st", count, MeshApi.SessionTtl);
            var frames = new SteerFrames();
            var clock = Stopwatch.StartNew();
            using var streamClient = options.ScaleStreamHosts == 0 ? server.CreateStreamClient(SourceAddresses(count)) : null;
            await using var streams = await OpenFleetAsync("1", agents, frames, streamClient);
            var opened = clock.Elapsed;
            var rss = server.Process.ResidentBytes();
            Bench.Progress($"2: {streams.Count} streams open in {opened.TotalSeconds:0.0} s; server RSS {Mb(rss)} MB");
            rows.Add(new("2", $"server RSS with {count} command streams open", $"{Mb(rss)} MB", "≤ 600 MB", rss > 0 && rss <= 600L * 1048576,
                string.Create(CultureInfo.InvariantCulture, $"VmRSS of the server process with {streams.Count} agents joined and listening in {HeldIn} (opened in {opened.TotalSeconds:0.0} s, {options.ScaleParallelism} at a time); peak so far {Mb(server.Process.PeakResidentBytes())} MB.")));

            var window = await SteerWindowAsync("1", agents, frames, streams, options.ScaleSteerLog);
            var (p50, p99) = (window.Delivered.PercentileMs(50), window.Delivered.PercentileMs(99));
            var floor = Floor is { } relay
                ? string.Create(CultureInfo.InvariantCulture, $" The bare relay in the same run (row 1r, the same streams, hosts and schedule): p50 {Ms(relay.Delivered.PercentileMs(50))} ms, p99 {Ms(relay.Delivered.PercentileMs(99))} ms; this row is {p50 / relay.Delivered.PercentileMs(50):0.0}× its p50 and {p99 / relay.Delivered.PercentileMs(99):0.0}× its p99.")
                : " No bare relay figure in this run (row 1r failed).";
            rows.Add(new("1", $"steer → frame, {count} streams open, {options.ScaleSteerRate} steers/s offered", $"p50 {Ms(p50)} ms, p99 {Ms(p99)} ms, lost {window.Lost}",
                "p50 ≤ 2 ms, p99 ≤ 10 ms, none lost", p50 <= 2 && p99 <= 10 && window.Lost == 0 && window.Delivered.Succeeded > 0,
                window.Describe(HeldIn, "the steer, its frame and the delivery write") + floor));
        }

        /// <summary>
        /// 1r: row 1's streams, hosts and steer schedule against the bare relay (<c>SessionMesh.Baseline --relay</c>):
        /// the same two calls on the same paths with no keys, store or queue behind them, so what it measures is the
        /// machine's floor under row 1 in this run. Reported, no target; row 1 gives its ratio to it.
        /// </summary>
        public async Task RelayAsync()
        {
            var count = options.ScaleStreams;
            if (FileDescriptors.Shortfall(count + MaxSteersInFlight / 4) is { } shortfall)
            {
                rows.Add(new("1r", $"steer → frame through a bare relay, {count} streams open", "–", "reported", null, shortfall));
                return;
            }
            var agents = Enumerable.Range(0, count).Select(i => string.Create(CultureInfo.InvariantCulture, $"st-{i}")).ToList();
            var frames = new SteerFrames();
            using var streamClient = options.ScaleStreamHosts == 0 ? server.CreateStreamClient(SourceAddresses(count)) : null;
            await using var streams = await OpenFleetAsync("1r", agents, frames, streamClient);
            using (var settle = server.CreateClient(authenticated: false, TimeSpan.FromSeconds(60)))
            {
                var status = await MeshApi.SendAsync(settle, HttpMethod.Post, RelaySettlePath, null, cancellationToken);
                Bench.Progress($"1r: the relay collected its heap with the streams open ({status})");
            }
            var window = Floor = await SteerWindowAsync("1r", agents, frames, streams, options.ScaleSteerLog is { } log ? log + ".1r" : null);
            rows.Add(new("1r", $"steer → frame through a bare relay, {count} streams open, {options.ScaleSteerRate} steers/s offered",
                string.Create(CultureInfo.InvariantCulture, $"p50 {Ms(window.Delivered.PercentileMs(50))} ms, p99 {Ms(window.Delivered.PercentileMs(99))} ms, lost {window.Lost}"),
                "reported (row 1's floor)", null,
                "Bare Kestrel in its own process holding the streams and writing each steer's body to its agent's stream before answering: no keys, no store, no fsync; one full collection of its heap once the streams are open (so its one-time promotion of them is not in the window). "
                + window.Describe(HeldIn, "the steer and its frame")));
        }

        /// <summary>The relay's one full collection before its steers (see <c>SteerRelay</c> in bench/SessionMesh.Baseline).</summary>
        private const string RelaySettlePath = "settle";

        private string HeldIn => options.ScaleStreamHosts == 0 ? "the generator's own process" : $"{options.ScaleStreamHosts} stream host processes";

        /// <summary>Opens a command stream for each agent on this row's target: in the stream hosts, or on <paramref name="streamClient"/> in this process.</summary>
        private async Task<IStreamFleet> OpenFleetAsync(string id, IReadOnlyList<string> agents, SteerFrames frames, HttpClient? streamClient)
        {
            Bench.Progress($"{id}: opening {agents.Count} command streams in {HeldIn} ...");
            return streamClient is not null
                ? await CommandStreams.OpenAsync(streamClient, agents, options.ScaleParallelism, frames.OnFrame, cancellationToken)
                : await StreamHosts.OpenAsync(server, agents, options.ScaleStreamHosts, options.ScaleParallelism, SourceAddresses(agents.Count), frames, cancellationToken);
        }

        /// <summary>
        /// Steers offered open loop at <c>--scale-steer-rate</c>, round robin over <paramref name="agents"/>, each matched
        /// on its agent's stream: a warm-up unmeasured (<see cref="WarmUpAsync"/>; its lost frames still count), then
        /// <c>--scale-steer-seconds</c> measured.
        /// </summary>
        private async Task<SteerWindow> SteerWindowAsync(string id, IReadOnlyList<string> agents, SteerFrames frames, IStreamFleet streams, string? timelinePath)
        {
            using var steerClient = server.CreateClient(authenticated: true, s_requestTimeout);
            var answers = new ConcurrentBag<long>();
            Task<OpenLoop.Result> OfferSteersAsync(string prefix, long count) => OpenLoop.RunAsync(options.ScaleSteerRate, count, MaxSteersInFlight, async (i, ct) =>
            {
                var token = string.Create(CultureInfo.InvariantCulture, $"{prefix}-{i}");
                frames.Expect(token, Stopwatch.GetTimestamp(), measured: true);
                var status = 0;
                try
                {
                    var posted = Stopwatch.GetTimestamp();
                    status = await MeshApi.SendAsync(steerClient, HttpMethod.Post, MeshApi.SteerPath, MeshApi.SteerBody(agents[(int)(i % agents.Count)], token), ct);
                    answers.Add(Stopwatch.GetTimestamp() - posted);
                    return status;
                }
                finally
                {
                    if (status != 200)
                    {
                        frames.Forget(token);
                    }
                }
            }, cancellationToken);

            using var metrics = server.CreateClient(authenticated: false, s_requestTimeout);
            var warmup = await WarmUpAsync(id, OfferSteersAsync, metrics);
            if (warmup.Steers > 0)
            {
                warmup = warmup with { Lost = warmup.Lost + (await frames.CollectAsync(TimeSpan.FromSeconds(10), cancellationToken)).Missing };
                answers.Clear();
            }
            var total = (long)(options.ScaleSteerRate * options.ScaleSteerTime.TotalSeconds);
            Bench.Progress($"{id}: offering {options.ScaleSteerRate} steers/s for {options.ScaleSteerTime.TotalSeconds:0} s ({total} steers) ...");
            var runtimeBefore = await RuntimeCounters.ReadAsync(metrics, cancellationToken);
            var cpuBefore = server.Process.CpuTime();
            var sent = await OfferSteersAsync("scale", total);
            var cpuAfter = server.Process.CpuTime();
            var runtimeAfter = await RuntimeCounters.ReadAsync(metrics, cancellationToken);
            var (latencies, missing) = await frames.CollectAsync(TimeSpan.FromSeconds(10), cancellationToken, timelinePath);
            var window = new SteerWindow(
                new Measurement("steer->frame", latencies, new Dictionary<int, long>(), sent.Elapsed, default),
                new Measurement("steer answers", [.. answers.Order()], new Dictionary<int, long>(), sent.Elapsed, default),
                sent, warmup, missing, frames.Late, frames.Duplicates, frames.Unmatched, streams.Lost,
                (cpuAfter - cpuBefore).TotalMicroseconds / Math.Max(1, sent.Sent),
                runtimeBefore is not null && runtimeAfter is not null ? runtimeAfter.Since(runtimeBefore, sent.Sent) : "not read (no runtime series on its /metrics)");
            Bench.Progress($"{id}: {window.Summary()}");
            return window;
        }

        /// <summary>
        /// The steer rows' warm-up, unmeasured: <c>--warmup</c> s of steers at the row's rate, then a second more at a
        /// time until the target's JIT compiled for at most <see cref="QuietJitMs"/> ms in one (a fresh process tiers its
        /// steer path up for several seconds on two busy CPUs, and that is not the steady state the row is about), for at
        /// most <see cref="s_maxSteerWarmup"/> in all. A target whose <c>/metrics</c> gives no JIT series gets the fixed part only.
        /// </summary>
        private async Task<SteerWarmup> WarmUpAsync(string id, Func<string, long, Task<OpenLoop.Result>> offer, HttpClient metrics)
        {
            var rate = options.ScaleSteerRate;
            if (options.Warmup <= TimeSpan.Zero)
            {
                return new SteerWarmup(0, 0, TimeSpan.Zero, null);
            }
            Bench.Progress($"{id}: warm-up, {rate} steers/s for {options.Warmup.TotalSeconds:0} s, then until its JIT is quiet (at most {s_maxSteerWarmup.TotalSeconds:0} s in all), unmeasured ...");
            var clock = Stopwatch.StartNew();
            var first = await offer("warm", (long)(rate * options.Warmup.TotalSeconds));
            var (steers, failed) = (first.Sent, first.Failed);
            double? lastJitMs = null;
            var jitBySecond = new List<string>();
            for (var second = 1; clock.Elapsed + TimeSpan.FromSeconds(1) <= s_maxSteerWarmup; second++)
            {
                var before = await RuntimeCounters.ReadAsync(metrics, cancellationToken);
                var more = await offer(string.Create(CultureInfo.InvariantCulture, $"warm{second}"), rate);
                (steers, failed) = (steers + more.Sent, failed + more.Failed);
                if (before is null || await RuntimeCounters.ReadAsync(metrics, cancellationToken) is not { } after)
                {
                    break;
                }
                lastJitMs = after.JitMsSince(before);
                jitBySecond.Add(lastJitMs.Value.ToString("0", CultureInfo.InvariantCulture));
                if (lastJitMs <= QuietJitMs)
                {
                    break;
                }
            }
            Bench.Progress(string.Create(CultureInfo.InvariantCulture, $"{id}: warmed up with {steers} steers in {clock.Elapsed.TotalSeconds:0.0} s; its JIT compiled for {string.Join(", ", jitBySecond)} ms in the seconds after the first {options.Warmup.TotalSeconds:0}"));
            return new SteerWarmup(steers, failed, clock.Elapsed, lastJitMs);
        }

        /// <summary>A second of steers in which the JIT compiled for no longer than this ends the warm-up.</summary>
        private const double QuietJitMs = 20;

        /// <summary>The longest a steer row's warm-up runs, whatever the JIT does.</summary>
        private static readonly TimeSpan s_maxSteerWarmup = TimeSpan.FromSeconds(20);

        /// <summary>2b: the server's RSS with <c>--scale-rss-streams</c> streams open (reported, no target).</summary>
        public async Task MoreStreamsAsync()
        {
            var count = options.ScaleRssStreams;
            if (FileDescriptors.Shortfall(count) is { } shortfall)
            {
                rows.Add(new("2b", $"server RSS with {count} command streams open", "–", "reported", null, shortfall));
                return;
            }
            var agents = await JoinAsync("rss", count, MeshApi.SessionTtl);
            using var streamClient = server.CreateStreamClient(SourceAddresses(count));
            Bench.Progress($"2b: opening {count} command streams ...");
            var clock = Stopwatch.StartNew();
            await using var streams = await CommandStreams.OpenAsync(streamClient, agents, options.ScaleParallelism, static (_, _) => { }, cancellationToken);
            var rss = server.Process.ResidentBytes();
            Bench.Progress($"2b: {streams.Count} streams open in {clock.Elapsed.TotalSeconds:0.0} s; server RSS {Mb(rss)} MB");
            rows.Add(new("2b", $"server RSS with {count} command streams open", $"{Mb(rss)} MB", "reported", null,
                string.Create(CultureInfo.InvariantCulture, $"{streams.Count} streams opened in {clock.Elapsed.TotalSeconds:0.0} s over {SourceAddresses(count)} loopback source address(es), after row 1's streams closed (their agents still alive); peak {Mb(server.Process.PeakResidentBytes())} MB.")));
        }

        /// <summary>4: sessions joined with the same short TTL, all expected to expire (with events) within 2 s of the last join + 2 × TTL.</summary>
        public async Task ExpiryAsync()
        {
            var count = options.ScaleSessions;
            var ttl = options.ScaleExpiryTtl;
            long expired = 0, lastExpired = 0;
            using var watchClient = server.CreateStreamClient(1);
            // The watch opens before the first join (from now on), so no expiry can come before it is attached.
            await using var watcher = await EventWatchers.OpenAsync(watchClient, 1, 1, (frame, arrived) =>
            {
                if (frame.EventType == "session.expired" && frame.Data.Contains("\"agent_id\":\"exp-", StringComparison.Ordinal))
                {
                    Interlocked.Increment(ref expired);
                    Interlocked.Exchange(ref lastExpired, arrived);
                }
            }, cancellationToken);
            var clock = Stopwatch.StartNew();
            await JoinAsync("exp", count, ttl);
            var joined = clock.Elapsed;
            var deadline = Stopwatch.GetTimestamp() + (long)(2.0 * ttl * Stopwatch.Frequency);
            var giveUp = deadline + 30 * Stopwatch.Frequency;
            Bench.Progress($"4: {count} joins with ttl {ttl} s took {joined.TotalSeconds:0.0} s; waiting for their expiry (deadline {2 * ttl} s after the last join) ...");
            while (Interlocked.Read(ref expired) < count && Stopwatch.GetTimestamp() < giveUp && watcher.Broken == 0)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken);
            }
            var seen = Interlocked.Read(ref expired);
            var after = seen == 0 ? double.NaN : Stopwatch.GetElapsedTime(deadline, Interlocked.Read(ref lastExpired)).TotalSeconds;
            Bench.Progress($"4: {seen} of {count} session.expired events; the last {after:0.00} s after the deadline");
            rows.Add(new("4", $"expiry of {count} leases (TTL {ttl} s) ending together", string.Create(CultureInfo.InvariantCulture, $"{seen} of {count} expired, last {after:+0.00;-0.00} s after the deadline"),
                "all, ≤ 2 s after the deadline", seen == count && after <= 2,
                string.Create(CultureInfo.InvariantCulture, $"{count} joins ({options.ScaleParallelism} at a time) took {joined.TotalSeconds:0.0} s ({count / joined.TotalSeconds:0}/s); deadline = the last join's answer + 2 × TTL (stale after the TTL, expired after a grace of one more); counted on one `GET /events` SSE watch opened before the joins{(watcher.Broken > 0 ? "; the watch broke" : "")}.")));
        }

        /// <summary>
        /// 3: sessions joined concurrently (TTL 3600), then GET /alive?filter=alive&amp;limit=100 one at a time; then, for
        /// the details, as many look-ups of one agent's history (random agents, one at a time).
        /// </summary>
        public async Task AliveAsync()
        {
            var count = options.ScaleSessions;
            var clock = Stopwatch.StartNew();
            var agents = await JoinAsync("al", count, MeshApi.SessionTtl);
            var joined = clock.Elapsed;
            using var http = server.CreateClient(authenticated: true, s_requestTimeout);
            var alive = await OneAtATimeAsync(http, "alive", () => MeshApi.AlivePagePath);
            var random = new Random(42);
            var history = await OneAtATimeAsync(http, "history", () => MeshApi.AgentHistoryPath(agents[random.Next(agents.Count)]));
            var p99 = alive.PercentileMs(99);
            Bench.Progress($"3: {count} joins took {joined.TotalSeconds:0.0} s; GET /alive p50 {Ms(alive.PercentileMs(50))} ms, p99 {Ms(p99)} ms, errors {alive.ErrorSummary}; an agent's history p99 {Ms(history.PercentileMs(99))} ms, errors {history.ErrorSummary}");
            rows.Add(new("3", $"`GET /alive?filter=alive&limit=100` at {count} sessions", $"p99 {Ms(p99)} ms", "p99 ≤ 20 ms", p99 <= 20 && alive.Failed == 0,
                string.Create(CultureInfo.InvariantCulture, $"{count} joins over HTTP (TTL 3600, {options.ScaleParallelism} at a time) took {joined.TotalSeconds:0.0} s ({count / joined.TotalSeconds:0}/s). Then {options.ScaleAliveRequests} requests one at a time after {AliveWarmup} unmeasured: p50 {Ms(alive.PercentileMs(50))} ms, p99 {Ms(p99)} ms, max {Ms(alive.PercentileMs(100))} ms, errors {alive.ErrorSummary}. One agent's history (`GET /alive?agent_id=…&filter=all`, a random agent each time, as many requests): p50 {Ms(history.PercentileMs(50))} ms, p99 {Ms(history.PercentileMs(99))} ms, errors {history.ErrorSummary}.")));
        }

        /// <summary><see cref="AliveWarmup"/> unmeasured GETs, then <c>--scale-alive-requests</c> measured ones, one at a time.</summary>
        private async Task<Measurement> OneAtATimeAsync(HttpClient http, string name, Func<string> path)
        {
            var latencies = new List<long>(options.ScaleAliveRequests);
            var errors = new Dictionary<int, long>();
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < AliveWarmup + options.ScaleAliveRequests; i++)
            {
                var began = Stopwatch.GetTimestamp();
                var status = await MeshApi.SendAsync(http, HttpMethod.Get, path(), null, cancellationToken);
                if (i < AliveWarmup)
                {
                    continue;
                }
                if (status == 200)
                {
                    latencies.Add(Stopwatch.GetTimestamp() - began);
                }
                else
                {
                    errors[status] = errors.GetValueOrDefault(status) + 1;
                }
            }
            var sorted = latencies.ToArray();
            Array.Sort(sorted);
            return new Measurement(name, sorted, errors, clock.Elapsed, default);
        }

        /// <summary>5: one queued command for each of row 3's agents, SIGTERM, the same data directory again: process start to <c>/readyz</c> 200.</summary>
        /// <summary>The server <see cref="RestartAsync"/> started again, the caller's to dispose (even when the scenario failed after it).</summary>
        public Target? Restarted { get; private set; }

        public async Task RestartAsync()
        {
            var count = options.ScaleSessions;
            using (var http = server.CreateClient(authenticated: true, s_requestTimeout))
            {
                Bench.Progress($"5: queueing one steer for each of {count} agents ...");
                var clock = Stopwatch.StartNew();
                var failed = 0L;
                await Parallel.ForEachAsync(Enumerable.Range(0, count), Parallelism, async (i, ct) =>
                {
                    var agent = string.Create(CultureInfo.InvariantCulture, $"al-{i}");
                    if (await MeshApi.SendAsync(http, HttpMethod.Post, MeshApi.SteerPath, MeshApi.SteerBody(agent, "queued-" + agent, queueIfOffline: true), ct) != 200)
                    {
                        Interlocked.Increment(ref failed);
                    }
                });
                Bench.Progress($"5: {count - failed} steers queued in {clock.Elapsed.TotalSeconds:0.0} s ({failed} failed)");
                if (failed > 0)
                {
                    throw new InvalidOperationException($"{failed} of {count} steers were not queued.");
                }
            }
            Bench.Progress("5: stopping the server (SIGTERM) ...");
            var stopped = await server.Process.TerminateAsync(TimeSpan.FromSeconds(60), cancellationToken)
                ?? throw new InvalidOperationException("The server did not exit within 60 s of SIGTERM.");
            Bench.Progress($"5: stopped in {stopped.TotalSeconds:0.00} s; starting it again on {server.DataDir} ...");
            var start = Stopwatch.GetTimestamp();
            var restarted = Restarted = await Targets.StartServerAsync(options, cancellationToken, restart: server, settings: s_serverSettings);
            var listening = Stopwatch.GetElapsedTime(start);
            using var probe = restarted.CreateClient(authenticated: false, TimeSpan.FromSeconds(2));
            TimeSpan? ready = null;
            while (ready is null && Stopwatch.GetElapsedTime(start) < TimeSpan.FromSeconds(60))
            {
                try
                {
                    if (await MeshApi.SendAsync(probe, HttpMethod.Get, MeshApi.ReadyPath, null, cancellationToken) == 200)
                    {
                        ready = Stopwatch.GetElapsedTime(start);
                        break;
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
                {
                }
                await Task.Delay(TimeSpan.FromMilliseconds(5), cancellationToken);
            }
            var kept = await CountAliveAsync(restarted);
            Bench.Progress($"5: listening after {listening.TotalSeconds:0.00} s, /readyz 200 after {ready?.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture) ?? "never"} s");
            rows.Add(new("5", $"restart with {count} sessions and {count} queued commands", ready is { } r ? string.Create(CultureInfo.InvariantCulture, $"{r.TotalSeconds:0.00} s to `/readyz` 200") : "not ready within 60 s",
                "≤ 3 s", ready <= TimeSpan.FromSeconds(3) && kept,
                string.Create(CultureInfo.InvariantCulture, $"SIGTERM to exit took {stopped.TotalSeconds:0.00} s; from starting the process (the .NET runtime's own start-up included) to its 'listening on' line {listening.TotalSeconds:0.00} s, to the first 200 from `/readyz` (polled every 5 ms) {ready?.TotalSeconds ?? double.NaN:0.00} s; after the restart `GET /alive` {(kept ? "still lists the sessions" : "did NOT list the sessions")}.")));
        }

        /// <summary>Whether the restarted server still has sessions alive (its first page is full).</summary>
        private async Task<bool> CountAliveAsync(Target target)
        {
            using var http = target.CreateClient(authenticated: true, s_requestTimeout);
            using var response = await http.GetAsync(MeshApi.AlivePagePath, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                return false;
            }
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
            return json.RootElement.GetProperty("items").GetArrayLength() == Math.Min(100, options.ScaleSessions);
        }

        private async Task<List<string>> JoinAsync(string prefix, int count, int ttl)
        {
            var agents = Enumerable.Range(0, count).Select(i => string.Create(CultureInfo.InvariantCulture, $"{prefix}-{i}")).ToList();
            Bench.Progress($"joining {count} agents ({prefix}-N, ttl {ttl} s, {options.ScaleParallelism} at a time) ...");
            using var http = server.CreateClient(authenticated: true, s_requestTimeout);
            var clock = Stopwatch.StartNew();
            await MeshApi.JoinManyAsync(http, agents, ttl, options.ScaleParallelism, cancellationToken);
            Bench.Progress($"joined {count} in {clock.Elapsed.TotalSeconds:0.0} s");
            return agents;
        }

        /// <summary>Loopback source addresses to spread <paramref name="connections"/> over: one per 20,000 (a source address has about 28,000 ephemeral ports).</summary>
        private static int SourceAddresses(int connections) => connections / 20_000 + 1;
    }

    /// <summary>A steer row's warm-up: steers offered, lost (failed or their frames never read), how long, and the JIT's last second (null: not read).</summary>
    internal sealed record SteerWarmup(long Steers, long Lost, TimeSpan Elapsed, double? LastJitMs)
    {
        public string Describe() => string.Create(CultureInfo.InvariantCulture,
            $"After {Steers} warm-up steers at the same rate over {Elapsed.TotalSeconds:0.0} s (unmeasured; lost: {Lost}; {(LastJitMs is { } jit ? $"its JIT compiled for {jit:0} ms in their last second" : "its JIT not read")})");
    }

    /// <summary>What one steer window measured: POST-to-frame latencies, the steers' own answers, and every way a frame could be lost.</summary>
    internal sealed record SteerWindow(Measurement Delivered, Measurement Answered, OpenLoop.Result Sent, SteerWarmup Warmup,
        long Missing, long Late, long Duplicates, long Unmatched, long StreamsLost, double CpuPerSteer, string Collector)
    {
        /// <summary>Frames that never came or came twice or unasked, failed steers, and the warm-up's lost ones.</summary>
        public long Lost => Missing + Sent.Failed + Unmatched + Duplicates + Warmup.Lost;

        private string Errors => new Measurement("steers", [], Sent.Errors, Sent.Elapsed, default).ErrorSummary;

        public string Summary() => string.Create(CultureInfo.InvariantCulture,
            $"{Delivered.Succeeded} frames, p50 {Ms(Delivered.PercentileMs(50))} ms, p90 {Ms(Delivered.PercentileMs(90))} ms, p99 {Ms(Delivered.PercentileMs(99))} ms, p99.9 {Ms(Delivered.PercentileMs(99.9))} ms, max {Ms(Delivered.PercentileMs(100))} ms, missing {Missing}, failed steers {Sent.Failed} (their frames late {Late}), duplicates {Duplicates}, unmatched {Unmatched}, steer answers p50 {Ms(Answered.PercentileMs(50))} ms p99 {Ms(Answered.PercentileMs(99))} ms, target CPU {CpuPerSteer:0} µs per steer; its collector: {Collector}");

        /// <summary>The row's details: how the steers were offered and what became of them; <paramref name="cpuCovers"/> names what the CPU figure includes.</summary>
        public string Describe(string heldIn, string cpuCovers) => string.Create(CultureInfo.InvariantCulture,
            $"{Warmup.Describe()}, {Sent.Sent} steers offered open loop over {Sent.Elapsed.TotalSeconds:0.0} s ({Sent.Sent / Sent.Elapsed.TotalSeconds:0}/s achieved; the sender fell behind its schedule by {Sent.MaxBehind.TotalMilliseconds:0} ms at worst), round robin over the agents (their streams held in {heldIn}), each timed from its POST's start to its frame on the agent's stream; p90 {Ms(Delivered.PercentileMs(90))} ms, p99.9 {Ms(Delivered.PercentileMs(99.9))} ms; frames {Delivered.Succeeded}, never arrived {Missing}, failed steers {Errors} (frames of failed steers that came late anyway: {Late}), duplicate frames {Duplicates}, unexpected frames {Unmatched}, streams lost {StreamsLost}; the steers' own answers p50 {Ms(Answered.PercentileMs(50))} ms, p99 {Ms(Answered.PercentileMs(99))} ms; CPU of the process answering {CpuPerSteer:0} µs per steer ({cpuCovers}); its collector while the steers were sent (from its `/metrics`): {Collector}.");
    }
}
