using System.Diagnostics;
using System.Globalization;

namespace SessionMesh.LoadGen;

/// <summary>
/// The run: start the baseline, the server and etcd (when installed), each in its own process; join the heartbeat
/// sessions and the streaming agents (and grant as many etcd leases); run every scenario once unmeasured (warm-up
/// round); then, at each connection count, the baseline, each scenario with its etcd peer right after it, and the
/// baseline again; then the one-at-a-time latencies (steer → frame, the two watches); then the server's memory.
/// </summary>
internal static class Bench
{
    private static readonly TimeSpan s_requestTimeout = TimeSpan.FromSeconds(10);
    private static readonly Stopwatch s_clock = Stopwatch.StartNew();

    /// <summary>Parallelism of the setup joins and grants: not measured, only bounded.</summary>
    private const int SetupParallelism = 16;

    /// <summary>How long each slice of an interleaved pair runs (the window is cut into as many as fit).</summary>
    private static readonly TimeSpan s_interleavedSlice = TimeSpan.FromSeconds(1);

    /// <summary>The unmeasured start of every slice after the first: connections are open and warm by then.</summary>
    private static readonly TimeSpan s_interleavedLeadIn = TimeSpan.FromMilliseconds(250);

    /// <summary>Unmeasured writes before each watch scenario's measured ones.</summary>
    private const int WatchWarmupWrites = 20;

    public static async Task<string> RunAsync(LoadGenOptions options, CancellationToken cancellationToken)
    {
        s_clock.Restart();
        var loadAverage = LoadAverage();
        Progress("starting the baseline, the server and etcd ...");
        var starting = (Baseline: Targets.StartBaselineAsync(options, cancellationToken), Server: Targets.StartServerAsync(options, cancellationToken), Etcd: Targets.StartEtcdAsync(options, cancellationToken));
        Target? baseline = null, server = null, etcd = null;
        try
        {
            try
            {
                await Task.WhenAll(starting.Baseline, starting.Server, starting.Etcd);
            }
            finally
            {
                // WhenAll waits for all three; whatever started is stopped below, even when another failed to start.
                baseline = starting.Baseline.IsCompletedSuccessfully ? starting.Baseline.Result : null;
                server = starting.Server.IsCompletedSuccessfully ? starting.Server.Result : null;
                etcd = starting.Etcd.IsCompletedSuccessfully ? starting.Etcd.Result.Etcd : null;
            }
            var etcdSkipped = starting.Etcd.Result.Skipped;
            Progress($"baseline on {baseline!.BaseAddress} (pid {baseline.Process.Pid}); server on {server!.BaseAddress} (pid {server.Process.Pid}, store {server.DataDir}); "
                + (etcd is null ? etcdSkipped : $"etcd on {etcd.BaseAddress} (pid {etcd.Process.Pid})"));
            var fsync = FsyncProbe.Run(server.DataDir!);
            Progress($"fsync of a 4 KB append in the store's directory: p50 {fsync.P50Ms:0.000} ms, p99 {fsync.P99Ms:0.000} ms");
            var run = new Run(options, baseline, server, etcd, cancellationToken);
            var results = await run.MeasureAsync(fsync);
            var notes = results.Notes.ToList();
            if (etcdSkipped is not null)
            {
                notes.Insert(0, etcdSkipped);
            }
            return Report.Render(results with { Notes = notes, LoadAverageAtStart = loadAverage, Total = s_clock.Elapsed });
        }
        finally
        {
            foreach (var target in new[] { etcd, server, baseline })
            {
                if (target is not null)
                {
                    await target.DisposeAsync();
                }
            }
            Progress("stopped every process and deleted their temp directories");
        }
    }

    /// <summary>The 1, 5 and 15 minute load averages: other work on a shared machine skews every figure.</summary>
    public static string LoadAverage()
    {
        try
        {
            return string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
        catch (UnauthorizedAccessException)
        {
            return "unknown";
        }
    }

    public static void Progress(string message) =>
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{s_clock.Elapsed.TotalSeconds,6:0.0}s] {message}"));

    /// <summary>One run's state: the targets, the joined sessions, the granted leases, the open command streams.</summary>
    private sealed class Run(LoadGenOptions options, Target baseline, Target server, Target? etcd, CancellationToken cancellationToken)
    {
        private string[] _sessionIds = [];
        private string[] _leaseIds = [];
        private List<string> _streamAgents = [];
        private readonly SteerFrames _frames = new();
        private CommandStreams? _streams;

        private string WalPath => Path.Combine(server.DataDir!, "session-mesh.db-wal");

        public async Task<BenchResults> MeasureAsync(FsyncProbe fsync)
        {
            using var setup = server.CreateClient(authenticated: true, s_requestTimeout);
            // Streams stay open for the whole run: no per-request timeout, only the streams' own cancellation.
            using var streamClient = server.CreateClient(authenticated: true, Timeout.InfiniteTimeSpan);
            using var etcdSetup = etcd?.CreateClient(authenticated: false, s_requestTimeout);
            using var etcdStreamClient = etcd?.CreateClient(authenticated: false, Timeout.InfiniteTimeSpan);

            Progress($"joining {options.Sessions} agents for heartbeats and {options.Streams} agents that hold command streams{(etcd is null ? "" : $"; granting {options.Sessions} etcd leases")} ...");
            _sessionIds = await JoinManyAsync(setup, Enumerable.Range(0, options.Sessions).Select(i => $"hb-{i}").ToList());
            _streamAgents = Enumerable.Range(0, options.Streams).Select(i => $"steer-{i}").ToList();
            await JoinManyAsync(setup, _streamAgents);
            if (etcdSetup is not null)
            {
                _leaseIds = new string[options.Sessions];
                await Parallel.ForEachAsync(Enumerable.Range(0, options.Sessions), SetupOptions(), async (i, ct) => _leaseIds[i] = await EtcdApi.GrantAsync(etcdSetup, ct));
            }
            var rounds = new List<ConnectionRound>();
            ConnectionRound oneAtATime;
            var notes = new List<string>();
            await using (_streams = await CommandStreams.OpenAsync(streamClient, _streamAgents, SetupParallelism, _frames.OnFrame, cancellationToken))
            {
                if (options.Warmup > TimeSpan.Zero)
                {
                    await WarmUpAsync(options.Connections[0]);
                }
                foreach (var connections in options.Connections)
                {
                    rounds.Add(await MeasureRoundAsync(connections));
                }
                oneAtATime = await MeasureOneAtATimeAsync(streamClient, etcdStreamClient);
                if (_frames.Unmatched > 0 || _streams.Lost > 0)
                {
                    notes.Add($"Command streams: {_frames.Unmatched} unexpected command frames, {_streams.Lost} streams ended or broke during the run.");
                }
            }
            notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"Store after the load scenarios: session-mesh.db {FileMb(Path.Combine(server.DataDir!, "session-mesh.db")):0.0} MB, session-mesh.db-wal {FileMb(WalPath):0.0} MB."));

            var memory = options.Agents > 0 ? await ProbeMemoryAsync(setup, streamClient) : [];
            var processes = new List<string>
            {
                Describe(baseline),
                Describe(server),
            };
            if (etcd is not null)
            {
                processes.Add(Describe(etcd));
            }
            return new BenchResults(options, rounds, oneAtATime, processes, fsync, memory, notes, "", TimeSpan.Zero);
        }

        private static string Describe(Target target) => string.Create(CultureInfo.InvariantCulture,
            $"{target.Name}: {target.Description}, pid {target.Process.Pid}, on {target.BaseAddress}; RSS at the end {target.Process.ResidentBytes() / 1048576.0:0.0} MB (peak {target.Process.PeakResidentBytes() / 1048576.0:0.0} MB)");

        private async Task WarmUpAsync(int connections)
        {
            Progress($"warm-up round: every scenario for {options.Warmup.TotalSeconds:0} s at {connections} connections, unmeasured ...");
            await using var clients = new RoundClients(baseline, server, etcd, connections);
            foreach (var (name, http, call, target) in Scenarios("w", clients))
            {
                await ClosedLoop.RunAsync(name, http, TimeSpan.Zero, options.Warmup, options.MaxRequestsPerWorker, call, target.Process, cancellationToken);
            }
            await _frames.CollectAsync(TimeSpan.FromSeconds(5), cancellationToken);
        }

        /// <summary>Every closed-loop scenario of a round, in the order they run; a <c>round</c> tag keeps join ids and steer tokens unique.</summary>
        private IEnumerable<(string Name, IReadOnlyList<HttpClient> Clients, Func<WorkerContext, CancellationToken, Task<int>> Call, Target Target)> Scenarios(string round, RoundClients clients)
        {
            yield return ("baseline", clients.Baseline, Baseline(), baseline);
            yield return ("healthz", clients.Anonymous, Get(MeshApi.HealthPath), server);
            yield return ("healthz+key", clients.Keyed, Get(MeshApi.HealthPath), server);
            yield return ("keys/self", clients.Keyed, Get(MeshApi.SelfPath), server);
            yield return ("heartbeat", clients.Keyed, Heartbeat(clients.Count), server);
            if (etcd is not null)
            {
                yield return ("etcd keepalive", clients.Etcd, KeepAlive(clients.Count), etcd);
            }
            yield return ("join", clients.Keyed, Join(round), server);
            if (etcd is not null)
            {
                yield return ("etcd grant", clients.Etcd, Post(EtcdApi.GrantPath, EtcdApi.GrantBody), etcd);
            }
            yield return ("steer", clients.Keyed, Steer(round, clients.Count), server);
        }

        private async Task<ConnectionRound> MeasureRoundAsync(int connections)
        {
            Progress($"--- {connections} connections ---");
            await using var clients = new RoundClients(baseline, server, etcd, connections);
            var round = $"m{connections}";
            var rows = new List<ScenarioRow>();
            var pairs = new List<PeerPair>();
            var measured = new Dictionary<string, Measurement>(StringComparer.Ordinal);
            var scenarios = Scenarios(round, clients).ToList();
            foreach (var scenario in scenarios)
            {
                if (s_interleaved.Values.Any(partners => partners.Contains(scenario.Name)))
                {
                    // Measured in slices alternating with the scenario it is compared with.
                    continue;
                }
                var partners = s_interleaved.GetValueOrDefault(scenario.Name, []);
                var together = scenarios.Where(s => partners.Contains(s.Name)).Prepend(scenario).ToList();
                if (together.Count == 1)
                {
                    measured[scenario.Name] = await MeasureOneAsync($"{scenario.Name} ×{connections}", scenario.Clients, scenario.Call, scenario.Target);
                    continue;
                }
                foreach (var result in await MeasureInterleavedAsync(connections, together))
                {
                    measured[result.Name] = result;
                }
            }
            var again = await MeasureOneAsync($"baseline again ×{connections}", clients.Baseline, Baseline(), baseline);

            var (latencies, missing) = await _frames.CollectAsync(TimeSpan.FromSeconds(5), cancellationToken);
            var steer = measured["steer"];
            var delivery = new Measurement("steer->frame", latencies, missing > 0 ? new Dictionary<int, long> { [ClosedLoop.NoFrame] = missing } : [], steer.Elapsed, steer.Counters);
            Progress($"steer->frame ×{connections}: {delivery.Succeeded} frames, p50 {delivery.PercentileMs(50):0.00} ms, p99 {delivery.PercentileMs(99):0.00} ms, missing {missing}");

            rows.Add(new("B", "`GET /` bare Kestrel, fixed JSON body (**baseline**)", "baseline", measured["baseline"]));
            rows.Add(new("1", "`GET /healthz`, no key", "server", measured["healthz"]));
            rows.Add(new("2", "`GET /healthz` with a bearer key", "server", measured["healthz+key"]));
            rows.Add(new("3", "`GET /keys/self`", "server", measured["keys/self"]));
            rows.Add(new("4", $"`POST /sessions/{{id}}/heartbeat` over {_sessionIds.Length} sessions", "server", measured["heartbeat"]));
            if (etcd is not null)
            {
                rows.Add(new("4e", $"etcd `POST /v3/lease/keepalive` over {_leaseIds.Length} leases", "etcd", measured["etcd keepalive"]));
                pairs.Add(new("heartbeat vs lease keepalive", measured["heartbeat"], measured["etcd keepalive"]));
            }
            rows.Add(new("5", "`POST /sessions` (join; a new agent each)", "server", measured["join"]));
            if (etcd is not null)
            {
                rows.Add(new("5e", $"etcd `POST /v3/lease/grant` (TTL {MeshApi.SessionTtl} s)", "etcd", measured["etcd grant"]));
                pairs.Add(new("join vs lease grant", measured["join"], measured["etcd grant"]));
            }
            rows.Add(new("6a", $"`POST /steer` to {_streams!.Count} agents holding SSE streams: the answer", "server", steer));
            rows.Add(new("6b", "… and the `event: command` frame at the agent", "server", delivery, Derived: true));
            rows.Add(new("B′", "baseline again (drift check)", "baseline", again));
            return new ConnectionRound(connections, measured["baseline"], rows, pairs);
        }

        /// <summary>Latency without queueing: one connection, one call or write at a time, against the baseline at one connection.</summary>
        private async Task<ConnectionRound> MeasureOneAtATimeAsync(HttpClient streamClient, HttpClient? etcdStreamClient)
        {
            Progress("--- 1 connection: unqueued latencies ---");
            await using var clients = new RoundClients(baseline, server, etcd, 1);
            var one = await MeasureOneAsync("baseline ×1", clients.Baseline, Baseline(), baseline);
            var steer = await MeasureOneAsync("steer, 1 operator", clients.Keyed, Steer("u", 1), server);
            var (latencies, missing) = await _frames.CollectAsync(TimeSpan.FromSeconds(5), cancellationToken);
            var delivery = new Measurement("steer->frame, 1 operator", latencies,
                missing > 0 ? new Dictionary<int, long> { [ClosedLoop.NoFrame] = missing } : steer.Errors, steer.Elapsed, steer.Counters);
            Progress($"steer->frame, 1 operator: p50 {delivery.PercentileMs(50):0.00} ms, p99 {delivery.PercentileMs(99):0.00} ms, missing {missing}");
            var rows = new List<ScenarioRow>
            {
                new("B1", "`GET /` bare Kestrel (baseline at 1 connection)", "baseline", one),
                new("6c", "steer → `event: command` frame, 1 operator", "server", delivery),
            };
            var pairs = new List<PeerPair>();

            async Task<Measurement> WatchAsync(string name, string tag, WatchLatency.Watch watch, WatchLatency.Write write)
            {
                Progress($"{name}: {options.Writes} writes, each timed until the watcher reads it ...");
                var result = await WatchLatency.MeasureAsync(name, tag, watch, write, WatchWarmupWrites, options.Writes, cancellationToken);
                Progress($"{name}: p50 {result.PercentileMs(50):0.00} ms, p99 {result.PercentileMs(99):0.00} ms, errors {result.ErrorSummary}");
                return result;
            }
            var writer = clients.Keyed[0];
            var meshWatch = await WatchAsync("events watch", "mesh", WatchLatency.MeshEvents(streamClient),
                (token, ct) => MeshApi.SendAsync(writer, HttpMethod.Post, MeshApi.SessionsPath, MeshApi.JoinBody(token), ct));
            rows.Add(new("7", "join → its `session.joined` on a `GET /events` watch", "server", meshWatch));
            if (etcd is not null && etcdStreamClient is not null)
            {
                var etcdWriter = clients.Etcd[0];
                var etcdWatch = await WatchAsync("etcd watch", "etcd", WatchLatency.EtcdKeys(etcdStreamClient),
                    (token, ct) => MeshApi.SendAsync(etcdWriter, HttpMethod.Post, EtcdApi.PutPath, EtcdApi.PutBody(token), ct));
                rows.Add(new("7e", "etcd `POST /v3/kv/put` → the event on a `POST /v3/watch` stream", "etcd", etcdWatch));
                pairs.Add(new("events watch vs etcd watch", meshWatch, etcdWatch));
            }
            return new ConnectionRound(1, one, rows, pairs);
        }

        /// <summary>
        /// Scenarios measured in slices alternating with the ones they are compared with: a spell of noise from the
        /// machine's neighbours falls on all of them, not on one.
        /// </summary>
        private static readonly Dictionary<string, string[]> s_interleaved = new(StringComparer.Ordinal)
        {
            ["heartbeat"] = ["baseline", "etcd keepalive"],
            ["join"] = ["etcd grant"],
        };

        /// <summary>
        /// Scenarios measured in alternating slices (the first, the second, ..., the first again) that add up to the
        /// window each.
        /// </summary>
        private async Task<List<Measurement>> MeasureInterleavedAsync(
            int connections,
            IReadOnlyList<(string Name, IReadOnlyList<HttpClient> Clients, Func<WorkerContext, CancellationToken, Task<int>> Call, Target Target)> together)
        {
            var slices = Math.Max(1, (int)Math.Round(options.Duration.TotalSeconds / s_interleavedSlice.TotalSeconds));
            var slice = options.Duration / slices;
            Progress($"{string.Join(", ", together.Select(s => s.Name))} ×{connections}: {slices} slices of {slice.TotalSeconds:0.0} s each, alternating ...");
            var parts = together.Select(_ => new List<Measurement>()).ToList();
            for (var i = 0; i < slices; i++)
            {
                var leadIn = i == 0 ? LoadGenOptions.LeadIn : s_interleavedLeadIn;
                for (var k = 0; k < together.Count; k++)
                {
                    var (name, clients, call, target) = together[k];
                    parts[k].Add(await ClosedLoop.RunAsync(name, clients, leadIn, slice, options.MaxRequestsPerWorker, call, target.Process, cancellationToken));
                }
            }
            var results = together.Select((s, k) => Measurement.Combine(s.Name, parts[k])).ToList();
            foreach (var result in results)
            {
                Progress($"{result.Name} ×{connections}: {result.PerSecond:0} req/s, p50 {result.PercentileMs(50):0.00} ms, p99 {result.PercentileMs(99):0.00} ms, errors {result.ErrorSummary}");
            }
            return results;
        }

        private async Task<Measurement> MeasureOneAsync(string name, IReadOnlyList<HttpClient> clients, Func<WorkerContext, CancellationToken, Task<int>> call, Target target)
        {
            Progress($"{name}: {LoadGenOptions.LeadIn.TotalSeconds:0} s lead-in + {options.Duration.TotalSeconds:0} s measured ...");
            var result = await ClosedLoop.RunAsync(name, clients, LoadGenOptions.LeadIn, options.Duration, options.MaxRequestsPerWorker, call, target.Process, cancellationToken);
            Progress($"{name}: {result.PerSecond:0} req/s, p50 {result.PercentileMs(50):0.00} ms, p99 {result.PercentileMs(99):0.00} ms, errors {result.ErrorSummary}");
            return result;
        }

        private static Func<WorkerContext, CancellationToken, Task<int>> Baseline() => (w, ct) =>
            MeshApi.SendAsync(w.Http, HttpMethod.Get, "", null, ct);

        private static Func<WorkerContext, CancellationToken, Task<int>> Get(string path) => (w, ct) =>
            MeshApi.SendAsync(w.Http, HttpMethod.Get, path, null, ct);

        private static Func<WorkerContext, CancellationToken, Task<int>> Post(string path, string body) => (w, ct) =>
            MeshApi.SendAsync(w.Http, HttpMethod.Post, path, body, ct);

        private Func<WorkerContext, CancellationToken, Task<int>> Heartbeat(int workers) => (w, ct) =>
            MeshApi.SendAsync(w.Http, HttpMethod.Post, MeshApi.HeartbeatPath(_sessionIds[(int)((w.Iteration * workers + w.Index) % _sessionIds.Length)]), MeshApi.HeartbeatBody, ct);

        private Func<WorkerContext, CancellationToken, Task<int>> KeepAlive(int workers) => (w, ct) =>
            MeshApi.SendAsync(w.Http, HttpMethod.Post, EtcdApi.KeepAlivePath, EtcdApi.KeepAliveBody(_leaseIds[(int)((w.Iteration * workers + w.Index) % _leaseIds.Length)]), ct);

        /// <summary>
        /// Joins of a new agent each: the worker's index, then a number counted across every window the scenario runs in
        /// (a worker's iterations start again at zero in each slice of an interleaved run).
        /// </summary>
        private static Func<WorkerContext, CancellationToken, Task<int>> Join(string round)
        {
            var joins = 0L;
            return (w, ct) => MeshApi.SendAsync(w.Http, HttpMethod.Post, MeshApi.SessionsPath,
                MeshApi.JoinBody(string.Create(CultureInfo.InvariantCulture, $"join-{round}-{w.Index}-{Interlocked.Increment(ref joins)}")), ct);
        }

        private Func<WorkerContext, CancellationToken, Task<int>> Steer(string round, int workers) => async (w, ct) =>
        {
            var agentId = _streamAgents[(int)((w.Iteration * workers + w.Index) % _streamAgents.Count)];
            var token = string.Create(CultureInfo.InvariantCulture, $"bench-{round}-{w.Index}-{w.Iteration}");
            _frames.Expect(token, Stopwatch.GetTimestamp(), w.Measured);
            var status = 0;
            try
            {
                status = await MeshApi.SendAsync(w.Http, HttpMethod.Post, MeshApi.SteerPath, MeshApi.SteerBody(agentId, token), ct);
                return status;
            }
            finally
            {
                if (status != 200)
                {
                    _frames.Forget(token);
                }
            }
        };

        /// <summary>The server's resident memory before and after <c>--agents</c> joins, with their streams open, after they close, and after a second cycle.</summary>
        private async Task<List<MemorySnapshot>> ProbeMemoryAsync(HttpClient setup, HttpClient streamClient)
        {
            var count = options.Agents;
            var snapshots = new List<MemorySnapshot> { MemorySnapshot.Take("before (after the load scenarios)", server.Process) };
            Progress($"memory: joining {count} agents ...");
            var agentIds = Enumerable.Range(0, count).Select(i => $"mem-{i}").ToList();
            var clock = Stopwatch.StartNew();
            _ = await JoinManyAsync(setup, agentIds);
            Progress($"memory: {count} joins in {clock.Elapsed.TotalSeconds:0.0} s");
            snapshots.Add(MemorySnapshot.Take($"after {count} agents joined", server.Process));

            Progress($"memory: opening {count} command streams ...");
            clock.Restart();
            await using (var streams = await CommandStreams.OpenAsync(streamClient, agentIds, SetupParallelism, static (_, _) => { }, cancellationToken))
            {
                Progress($"memory: {streams.Count} streams open in {clock.Elapsed.TotalSeconds:0.0} s");
                snapshots.Add(MemorySnapshot.Take($"with their {streams.Count} SSE command streams open", server.Process));
            }
            // Give the server a moment to see the connections go and end the streams.
            await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
            snapshots.Add(MemorySnapshot.Take("after the streams closed", server.Process));

            // A second cycle: what stays behind after a close should not grow with each cycle (else it is a leak).
            await using (var streams = await CommandStreams.OpenAsync(streamClient, agentIds, SetupParallelism, static (_, _) => { }, cancellationToken))
            {
                snapshots.Add(MemorySnapshot.Take($"{streams.Count} streams open again", server.Process));
            }
            await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
            snapshots.Add(MemorySnapshot.Take("after they closed again", server.Process));
            return snapshots;
        }

        /// <summary>Joins each agent, a few at a time; returns their session ids in order.</summary>
        private Task<string[]> JoinManyAsync(HttpClient http, IReadOnlyList<string> agentIds) =>
            MeshApi.JoinManyAsync(http, agentIds, MeshApi.SessionTtl, SetupParallelism, cancellationToken);

        private ParallelOptions SetupOptions() => new() { MaxDegreeOfParallelism = SetupParallelism, CancellationToken = cancellationToken };

        private static double FileMb(string path) => File.Exists(path) ? new FileInfo(path).Length / 1048576.0 : 0;
    }

    /// <summary>The clients of one round: N per target and kind, one connection each.</summary>
    private sealed class RoundClients : IAsyncDisposable
    {
        public RoundClients(Target baseline, Target server, Target? etcd, int count)
        {
            Count = count;
            Baseline = Create(baseline, authenticated: false);
            Anonymous = Create(server, authenticated: false);
            Keyed = Create(server, authenticated: true);
            Etcd = etcd is null ? [] : Create(etcd, authenticated: false);
        }

        public int Count { get; }

        public List<HttpClient> Baseline { get; }

        public List<HttpClient> Anonymous { get; }

        public List<HttpClient> Keyed { get; }

        public List<HttpClient> Etcd { get; }

        public ValueTask DisposeAsync()
        {
            foreach (var client in Baseline.Concat(Anonymous).Concat(Keyed).Concat(Etcd))
            {
                client.Dispose();
            }
            return ValueTask.CompletedTask;
        }

        private List<HttpClient> Create(Target target, bool authenticated) =>
            [.. Enumerable.Range(0, Count).Select(_ => target.CreateClient(authenticated, s_requestTimeout))];
    }
}
