using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using SessionMesh.Server;
using SessionMesh.Store.Sqlite;

namespace SessionMesh.LoadGen;

/// <summary>One row of the results table.</summary>
/// <param name="Derived">The calls of the row above, timed differently: no CPU or allocation figures of its own.</param>
/// <param name="Compare">False for a row run at another concurrency than the baseline: its ratios would mean nothing.</param>
internal sealed record ScenarioRow(string Id, string Scenario, string ServerWork, Measurement Result, double WalMbAfter, bool Derived = false, bool Compare = true);

/// <summary>What the run measured, for the report.</summary>
internal sealed record BenchResults(
    LoadGenOptions Options,
    IReadOnlyList<ScenarioRow> Rows,
    Measurement Baseline,
    FsyncProbe Fsync,
    IReadOnlyList<MemorySnapshot> Memory,
    IReadOnlyList<string> Notes,
    string LoadAverageAtStart,
    TimeSpan Total);

/// <summary>
/// The run: start the server; join the heartbeat sessions and the streaming agents; run every scenario once
/// unmeasured (warm-up round); then measure the baseline, each scenario, and the baseline again; then memory.
/// </summary>
internal static class Bench
{
    private static readonly TimeSpan s_requestTimeout = TimeSpan.FromSeconds(10);
    private static readonly Stopwatch s_clock = new();

    /// <summary>The real server on a fresh SQLite store, with a rate limit too high to matter.</summary>
    private static readonly LocalMeshServerOptions s_server = new()
    {
        UseStore = (mesh, options) => mesh.UseSqlite(SqliteStoreSetting.ToDataSource(options.Store, options.DataDir)),
        Settings = new Dictionary<string, string>
        {
            ["Server:RateLimitPerSecond"] = "1000000",
            ["Server:RateLimitBurst"] = "1000000",
            // Same log level as a real server, but on stderr, so stdout carries only the table.
            ["Logging:Console:LogToStandardErrorThreshold"] = "Trace",
        },
    };

    public static async Task<string> RunAsync(LoadGenOptions options, CancellationToken cancellationToken)
    {
        s_clock.Restart();
        var loadAverage = LoadAverage();
        await using var server = await LocalMeshServer.StartAsync(s_server, cancellationToken);
        Progress($"server on {server.BaseAddress} (store {server.DataDir}); {options.Workers} workers");
        var fsync = FsyncProbe.Run(server.DataDir);
        Progress($"fsync of a 4 KB append in the store's directory: p50 {fsync.P50Ms:0.000} ms, p99 {fsync.P99Ms:0.000} ms");

        var anonymous = Enumerable.Range(0, options.Workers).Select(_ => server.CreateClient(key: "", timeout: s_requestTimeout)).ToList();
        var keyed = Enumerable.Range(0, options.Workers).Select(_ => server.CreateClient(timeout: s_requestTimeout)).ToList();
        using var setup = server.CreateClient(timeout: s_requestTimeout);
        // Streams stay open for the whole run: no per-request timeout, only the streams' own cancellation.
        using var streamClient = server.CreateClient(timeout: Timeout.InfiniteTimeSpan);
        try
        {
            var results = await MeasureAsync(options, server, fsync, anonymous, keyed, setup, streamClient, cancellationToken);
            return Report.Render(results with { LoadAverageAtStart = loadAverage });
        }
        finally
        {
            foreach (var client in anonymous.Concat(keyed))
            {
                client.Dispose();
            }
        }
    }

    private static async Task<BenchResults> MeasureAsync(
        LoadGenOptions options,
        LocalMeshServer server,
        FsyncProbe fsync,
        List<HttpClient> anonymous,
        List<HttpClient> keyed,
        HttpClient setup,
        HttpClient streamClient,
        CancellationToken cancellationToken)
    {
        var workers = options.Workers;
        var walPath = Path.Combine(server.DataDir, "session-mesh.db-wal");

        Progress($"joining {options.Sessions} agents for heartbeats and {options.Streams} agents that hold command streams ...");
        var sessionIds = await JoinManyAsync(setup, Enumerable.Range(0, options.Sessions).Select(i => $"hb-{i}").ToList(), workers, cancellationToken);
        var streamAgents = Enumerable.Range(0, options.Streams).Select(i => $"steer-{i}").ToList();
        await JoinManyAsync(setup, streamAgents, workers, cancellationToken);
        await using var streams = await CommandStreams.OpenAsync(streamClient, streamAgents, workers, cancellationToken);

        // Each call takes the round's tag, so that joins and steer tokens of the warm-up round never repeat in the measured one.
        Func<WorkerContext, CancellationToken, Task<int>> Health(string round) => (w, ct) =>
            MeshApi.SendAsync(w.Http, HttpMethod.Get, MeshApi.HealthPath, null, ct);
        Func<WorkerContext, CancellationToken, Task<int>> Self(string round) => (w, ct) =>
            MeshApi.SendAsync(w.Http, HttpMethod.Get, MeshApi.SelfPath, null, ct);
        Func<WorkerContext, CancellationToken, Task<int>> Heartbeat(string round) => (w, ct) =>
            MeshApi.SendAsync(w.Http, HttpMethod.Post, MeshApi.HeartbeatPath(sessionIds[(int)((w.Iteration * workers + w.Index) % sessionIds.Length)]), MeshApi.HeartbeatBody, ct);
        Func<WorkerContext, CancellationToken, Task<int>> Join(string round) => (w, ct) =>
            MeshApi.SendAsync(w.Http, HttpMethod.Post, MeshApi.SessionsPath, MeshApi.JoinBody(string.Create(CultureInfo.InvariantCulture, $"join-{round}-{w.Index}-{w.Iteration}")), ct);
        Func<WorkerContext, CancellationToken, Task<int>> Steer(string round) => async (w, ct) =>
        {
            var agentId = streamAgents[(int)((w.Iteration * workers + w.Index) % streamAgents.Count)];
            var token = string.Create(CultureInfo.InvariantCulture, $"bench-{round}-{w.Index}-{w.Iteration}");
            streams.Expect(token, Stopwatch.GetTimestamp(), w.Measured);
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
                    streams.Forget(token);
                }
            }
        };

        if (options.Warmup > TimeSpan.Zero)
        {
            Progress($"warm-up round: every scenario for {options.Warmup.TotalSeconds:0} s, unmeasured ...");
            foreach (var (name, clients, call) in new[]
            {
                ("healthz", anonymous, Health("w")), ("healthz+key", keyed, Health("w")), ("keys/self", keyed, Self("w")),
                ("heartbeat", keyed, Heartbeat("w")), ("join", keyed, Join("w")), ("steer", keyed, Steer("w")),
            })
            {
                await ClosedLoop.RunAsync(name, clients, TimeSpan.Zero, options.Warmup, options.MaxRequestsPerWorker, call, cancellationToken);
            }
            await streams.CollectAsync(TimeSpan.FromSeconds(5), cancellationToken);
        }

        var rows = new List<ScenarioRow>();
        async Task<Measurement> MeasureOneAsync(string name, IReadOnlyList<HttpClient> clients, Func<WorkerContext, CancellationToken, Task<int>> call)
        {
            Progress($"{name}: {LoadGenOptions.LeadIn.TotalSeconds:0} s lead-in + {options.Duration.TotalSeconds:0} s measured ...");
            var result = await ClosedLoop.RunAsync(name, clients, LoadGenOptions.LeadIn, options.Duration, options.MaxRequestsPerWorker, call, cancellationToken);
            Progress($"{name}: {result.PerSecond:0} req/s, p50 {result.PercentileMs(50):0.00} ms, p99 {result.PercentileMs(99):0.00} ms, errors {result.ErrorSummary}");
            return result;
        }
        double WalMb() => FileSize(walPath) / 1048576.0;

        // 1. The baseline: the cheapest thing the server answers; no key, so no authentication and no store.
        var baseline = await MeasureOneAsync("healthz", anonymous, Health("m"));
        rows.Add(new("1", "`GET /healthz` (baseline)", "routing + a small JSON answer; no key, no store", baseline, WalMb()));

        // 2. The same endpoint with a bearer key: authentication runs on every request that carries one.
        var healthKeyed = await MeasureOneAsync("healthz+key", keyed, Health("m"));
        rows.Add(new("2", "`GET /healthz` with a bearer key", "+ authentication: 1 SQLite point read (the key) + SHA-256", healthKeyed, WalMb()));

        // 3. An authenticated API read.
        var self = await MeasureOneAsync("keys/self", keyed, Self("m"));
        rows.Add(new("3", "`GET /keys/self`", "auth read + the key read again by the endpoint", self, WalMb()));

        // 4. Heartbeats over joined sessions: the hot path of a fleet.
        var heartbeat = await MeasureOneAsync("heartbeat", keyed, Heartbeat("m"));
        rows.Add(new("4", $"`POST /sessions/{{id}}/heartbeat` over {sessionIds.Length} sessions", "auth read + session read + 1 UPDATE…RETURNING (synchronous=NORMAL: no fsync)", heartbeat, WalMb()));

        // 5. Joins: a new agent and session each, a full-sync write plus an audit entry.
        var join = await MeasureOneAsync("join", keyed, Join("m"));
        rows.Add(new("5", "`POST /sessions` (join; a new agent each)", "auth read + write txn: agent, session, event (synchronous=FULL: fsync) + audit entry", join, WalMb()));

        // 6. Steer -> delivery on open SSE streams.
        var steer = await MeasureOneAsync("steer", keyed, Steer("m"));
        var (latencies, missing) = await streams.CollectAsync(TimeSpan.FromSeconds(5), cancellationToken);
        var delivery = new Measurement("steer->frame", latencies, missing > 0 ? new Dictionary<int, long> { [ClosedLoop.NoFrame] = missing } : [], steer.Elapsed, steer.Counters);
        Progress($"steer->frame: {delivery.Succeeded} frames, p50 {delivery.PercentileMs(50):0.00} ms, p99 {delivery.PercentileMs(99):0.00} ms, missing {missing}");
        rows.Add(new("6a", $"`POST /steer` to {streams.Count} agents holding SSE streams: the answer", "write txn: command, event (FULL) + audit; then waits for the delivery below", steer, WalMb()));
        rows.Add(new("6b", "… and the `event: command` frame at the agent", "POST start → frame read by the agent; delivery is a 2nd FULL write txn", delivery, WalMb(), Derived: true));

        // 6c. Steer -> delivery with one operator: the latency of a steer when it does not queue behind others.
        var unloaded = await MeasureOneAsync("steer, 1 operator", keyed.Take(1).ToList(), Steer("u"));
        var (unloadedLatencies, unloadedMissing) = await streams.CollectAsync(TimeSpan.FromSeconds(5), cancellationToken);
        var unloadedDelivery = new Measurement("steer->frame, 1 operator", unloadedLatencies,
            unloadedMissing > 0 ? new Dictionary<int, long> { [ClosedLoop.NoFrame] = unloadedMissing } : unloaded.Errors, unloaded.Elapsed, unloaded.Counters);
        Progress($"steer->frame, 1 operator: p50 {unloadedDelivery.PercentileMs(50):0.00} ms, p99 {unloadedDelivery.PercentileMs(99):0.00} ms, missing {unloadedMissing}");
        rows.Add(new("6c", "steer → frame with **1 operator** (no queueing)", "as 6b, one steer at a time: the unloaded delivery latency", unloadedDelivery, WalMb(), Compare: false));

        // 7. The baseline again: how far the machine drifted during the run.
        var again = await MeasureOneAsync("healthz again", anonymous, Health("m"));
        rows.Add(new("7", "`GET /healthz` again (drift check)", "as row 1, at the end of the run", again, WalMb()));

        var notes = new List<string>();
        if (streams.Unmatched > 0 || streams.Lost > 0)
        {
            notes.Add($"Command streams: {streams.Unmatched} unexpected command frames, {streams.Lost} streams ended or broke during the run.");
        }
        var dbPath = Path.Combine(server.DataDir, "session-mesh.db");
        notes.Add(string.Create(CultureInfo.InvariantCulture,
            $"Store after the load scenarios: session-mesh.db {FileSize(dbPath) / 1048576.0:0.0} MB, session-mesh.db-wal {WalMb():0.0} MB."));
        await streams.DisposeAsync();

        var memory = options.Agents > 0 ? await ProbeMemoryAsync(options, setup, streamClient, cancellationToken) : [];
        return new BenchResults(options, rows, baseline, fsync, memory, notes, "", s_clock.Elapsed);
    }

    /// <summary>Memory before and after <c>--agents</c> joins, with their streams open, after they close, and after a second open/close cycle.</summary>
    private static async Task<List<MemorySnapshot>> ProbeMemoryAsync(LoadGenOptions options, HttpClient setup, HttpClient streamClient, CancellationToken cancellationToken)
    {
        var count = options.Agents;
        var snapshots = new List<MemorySnapshot> { MemorySnapshot.Take("before (after the load scenarios)") };
        Progress($"memory: joining {count} agents ...");
        var agentIds = Enumerable.Range(0, count).Select(i => $"mem-{i}").ToList();
        var joinClock = Stopwatch.StartNew();
        // The session ids are dropped at once, so the bench itself holds only the agent ids (~100 B each).
        _ = await JoinManyAsync(setup, agentIds, options.Workers, cancellationToken);
        Progress($"memory: {count} joins in {joinClock.Elapsed.TotalSeconds:0.0} s");
        snapshots.Add(MemorySnapshot.Take($"after {count} agents joined"));

        Progress($"memory: opening {count} command streams ...");
        joinClock.Restart();
        await using (var streams = await CommandStreams.OpenAsync(streamClient, agentIds, options.Workers, cancellationToken))
        {
            Progress($"memory: {streams.Count} streams open in {joinClock.Elapsed.TotalSeconds:0.0} s");
            snapshots.Add(MemorySnapshot.Take($"with their {streams.Count} SSE command streams open"));
        }
        // Give the server a moment to see the connections go and end the streams.
        await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
        snapshots.Add(MemorySnapshot.Take("after the streams closed"));

        // A second cycle: what stays behind after a close should not grow with each cycle (else it is a leak).
        await using (var streams = await CommandStreams.OpenAsync(streamClient, agentIds, options.Workers, cancellationToken))
        {
            snapshots.Add(MemorySnapshot.Take($"{streams.Count} streams open again"));
        }
        await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
        snapshots.Add(MemorySnapshot.Take("after they closed again"));
        return snapshots;
    }

    /// <summary>Joins each agent, <paramref name="parallelism"/> at a time; returns their session ids in order.</summary>
    private static async Task<string[]> JoinManyAsync(HttpClient http, IReadOnlyList<string> agentIds, int parallelism, CancellationToken cancellationToken)
    {
        var sessionIds = new string[agentIds.Count];
        var options = new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(Enumerable.Range(0, agentIds.Count), options, async (i, ct) =>
            sessionIds[i] = await MeshApi.JoinAsync(http, agentIds[i], ct));
        return sessionIds;
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

    private static long FileSize(string path) => File.Exists(path) ? new FileInfo(path).Length : 0;

    private static void Progress(string message) =>
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{s_clock.Elapsed.TotalSeconds,6:0.0}s] {message}"));
}
