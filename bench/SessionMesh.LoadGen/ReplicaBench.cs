using System.Diagnostics;
using System.Globalization;
using System.Text;
using SessionMesh.Model;
using SessionMesh.Security;

namespace SessionMesh.LoadGen;

/// <summary>
/// The replicas scenario: three <c>serve</c> processes on one PostgreSQL database (issue #14's figures). Measures the
/// latency from a steer accepted by one replica to its frame on an agent's stream held by another (p50/p99), then
/// heartbeat and join throughput of one replica on PostgreSQL against one server on SQLite in the same run, each with
/// the same closed-loop workers.
/// </summary>
internal static class ReplicaBench
{
    public static async Task<string> RunAsync(LoadGenOptions options, CancellationToken cancellationToken)
    {
        var postgres = options.Postgres ?? throw new InvalidOperationException("--scenario replicas needs --postgres \"Host=...;Database=...\" (an empty database).");
        var rootKey = KeySecrets.NewToken(ApiKeyRecord.RootKeyId);
        var replicas = new List<Target>();
        var report = new StringBuilder().AppendLine(CultureInfo.InvariantCulture, $"Command: `{options.CommandLine()}`").AppendLine();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                replicas.Add(await Targets.StartServerAsync(options, cancellationToken, settings: ["--store", postgres], rootKey: rootKey));
            }
            var latencies = await CrossReplicaSteersAsync(replicas, options.Writes, options.Warmup, cancellationToken);
            report.AppendLine("| cross-replica steer -> delivery | p50 ms | p99 ms | max ms |").AppendLine("| --- | --- | --- | --- |")
                .AppendLine(CultureInfo.InvariantCulture, $"| {latencies.Length} steers, stream on replica 0, steers through 1 and 2 | {Percentile(latencies, 0.50):0.0} | {Percentile(latencies, 0.99):0.0} | {latencies.Max():0.0} |")
                .AppendLine();

            await using var sqlite = await Targets.StartServerAsync(options, cancellationToken);
            report.AppendLine("| workload | connections | PostgreSQL req/s | SQLite req/s | ratio |").AppendLine("| --- | --- | --- | --- | --- |");
            foreach (var connections in options.Connections)
            {
                var onPostgres = await HeartbeatsAsync(replicas[0], connections, options, cancellationToken);
                var onSqlite = await HeartbeatsAsync(sqlite, connections, options, cancellationToken);
                report.AppendLine(CultureInfo.InvariantCulture, $"| heartbeat | {connections} | {onPostgres:0} | {onSqlite:0} | {onPostgres / onSqlite:0.00} |");
                var joinsPostgres = await JoinsAsync(replicas[0], connections, options, cancellationToken);
                var joinsSqlite = await JoinsAsync(sqlite, connections, options, cancellationToken);
                report.AppendLine(CultureInfo.InvariantCulture, $"| join | {connections} | {joinsPostgres:0} | {joinsSqlite:0} | {joinsPostgres / joinsSqlite:0.00} |");
            }
            return report.ToString();
        }
        finally
        {
            foreach (var replica in replicas)
            {
                await replica.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// One agent streams from replica 0; steers go through replicas 1 and 2 in turn, one at a time: for
    /// <paramref name="warmup"/> unmeasured (freshly started replicas spend their first seconds in the tiered JIT, on the
    /// same two CPUs), then <paramref name="count"/> measured.
    /// </summary>
    private static async Task<double[]> CrossReplicaSteersAsync(List<Target> replicas, int count, TimeSpan warmup, CancellationToken cancellationToken)
    {
        using var streamClient = replicas[0].CreateClient(authenticated: true, Timeout.InfiniteTimeSpan);
        const string agent = "replica-bench";
        await MeshApi.JoinAsync(streamClient, agent, MeshApi.SessionTtl, cancellationToken);
        using var stream = await MeshApi.OpenCommandStreamAsync(streamClient, agent, cancellationToken);
        using var reader = new StreamReader(await stream.Content.ReadAsStreamAsync(cancellationToken));
        using var one = replicas[1].CreateClient(authenticated: true, TimeSpan.FromSeconds(30));
        using var two = replicas[2].CreateClient(authenticated: true, TimeSpan.FromSeconds(30));
        var sent = 0;
        async Task<double> SteerAsync()
        {
            var started = Stopwatch.GetTimestamp();
            var n = sent++;
            // The frame is timed as it arrives, not after the answer: a steer's answer waits for the delivery to be
            // written (to say delivered), which comes after the frame.
            var steer = MeshApi.SendAsync(n % 2 == 0 ? one : two, HttpMethod.Post, MeshApi.SteerPath, MeshApi.SteerBody(agent, $"d{n}"), cancellationToken);
            while (await reader.ReadLineAsync(cancellationToken) is { } line)
            {
                if (line == "event: command")
                {
                    break;
                }
            }
            var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            return await steer is var status && status != 200 ? throw new InvalidOperationException($"A steer answered {status}.") : elapsed;
        }

        var warmupEnds = Stopwatch.GetTimestamp() + (long)(warmup.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < warmupEnds)
        {
            await SteerAsync();
        }
        var latencies = new double[count];
        for (var i = 0; i < count; i++)
        {
            latencies[i] = await SteerAsync();
        }
        return latencies;
    }

    private static async Task<double> HeartbeatsAsync(Target target, int connections, LoadGenOptions options, CancellationToken cancellationToken)
    {
        using var http = target.CreateClient(authenticated: true, TimeSpan.FromSeconds(30));
        var agents = Enumerable.Range(0, options.Sessions).Select(i => $"hb-{connections}-{i}").ToList();
        var sessions = await MeshApi.JoinManyAsync(http, agents, MeshApi.SessionTtl, 16, cancellationToken);
        var next = 0;
        return await ClosedLoopAsync(connections, options.Duration, () =>
            MeshApi.SendAsync(http, HttpMethod.Post, MeshApi.HeartbeatPath(sessions[(int)((uint)Interlocked.Increment(ref next) % (uint)sessions.Length)]), MeshApi.HeartbeatBody, cancellationToken), cancellationToken);
    }

    private static async Task<double> JoinsAsync(Target target, int connections, LoadGenOptions options, CancellationToken cancellationToken)
    {
        using var http = target.CreateClient(authenticated: true, TimeSpan.FromSeconds(30));
        var next = 0;
        var run = Guid.NewGuid().ToString("N")[..8];
        return await ClosedLoopAsync(connections, options.Duration, () =>
            MeshApi.SendAsync(http, HttpMethod.Post, MeshApi.SessionsPath, MeshApi.JoinBody($"join-{run}-{Interlocked.Increment(ref next)}"), cancellationToken), cancellationToken);
    }

    /// <summary>Requests a second over <paramref name="duration"/>, <paramref name="connections"/> workers each sending one after another.</summary>
    private static async Task<double> ClosedLoopAsync(int connections, TimeSpan duration, Func<Task<int>> request, CancellationToken cancellationToken)
    {
        var done = 0L;
        var until = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, connections).Select(async _ =>
        {
            while (Stopwatch.GetTimestamp() < until && !cancellationToken.IsCancellationRequested)
            {
                if (await request() is >= 200 and < 300)
                {
                    Interlocked.Increment(ref done);
                }
            }
        }));
        return done / Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    private static double Percentile(double[] values, double p)
    {
        var sorted = values.Order().ToArray();
        return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
    }
}
