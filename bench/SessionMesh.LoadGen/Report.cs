using System.Globalization;
using System.Runtime;
using System.Runtime.InteropServices;
using System.Text;

namespace SessionMesh.LoadGen;

/// <summary>The results as markdown: the machine, the command, one table per connection count with ratios to its baseline, mesh ÷ etcd, memory.</summary>
internal static class Report
{
    private static readonly CultureInfo s_invariant = CultureInfo.InvariantCulture;

    public static string Render(BenchResults results)
    {
        var options = results.Options;
        var text = new StringBuilder();
        void Line(FormattableString line) => text.AppendLine(line.ToString(s_invariant));

        Line($"## session-mesh load test, {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC");
        Line($"");
        text.Append(MachineLines());
        Line($"- Command: `{options.CommandLine()}`");
        foreach (var process in results.Processes)
        {
            Line($"- Process {process}");
        }
        Line($"- Disk under the store: fsync of a 4 KB append p50 {results.Fsync.P50Ms:0.000} ms, p99 {results.Fsync.P99Ms:0.000} ms ({results.Fsync.Rounds} rounds).");
        Line($"- Load: closed-loop workers, one connection each (each sends, reads the whole answer, sends again), at {string.Join(" and ", options.Connections)} connections. A warm-up round runs every scenario for {options.Warmup.TotalSeconds:0} s first; then each scenario gets a {LoadGenOptions.LeadIn.TotalSeconds:0} s unmeasured lead-in and {options.Duration.TotalSeconds:0} s measured (the baseline, heartbeats and keepalives, and joins and grants, in interleaved slices: see the comparison with etcd below). {options.Streams} agents hold SSE command streams throughout. Each target is its own process; the load generator is a fourth, on the same CPUs. All traffic is on 127.0.0.1.");
        Line($"- req/s counts successful calls; latency percentiles are of successful calls. × baseline divides by the bare Kestrel row measured at the same connection count in this run. CPU % is of all {Environment.ProcessorCount} CPUs, for the process the row's calls went to; µs/call is that process's CPU time per call; loadgen % is the generator's own.");
        Line($"- Whole run: {results.Total.TotalSeconds:0} s. Load average (1/5/15 min) at the start: {results.LoadAverageAtStart}, at the end (this run included): {Bench.LoadAverage()}; row B′ against row B shows the drift.");

        foreach (var round in results.Rounds)
        {
            Line($"");
            Line($"### {round.Connections} connections");
            Line($"");
            Line($"| # | Scenario | Process | req/s | × baseline req/s | p50 ms | p95 ms | p99 ms | × baseline p50 | errors | CPU % | CPU µs/call | loadgen CPU % |");
            Line($"|---|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|");
            foreach (var row in round.Rows)
            {
                var m = row.Result;
                var isBaseline = ReferenceEquals(m, round.Baseline);
                Line($"| {row.Id} | {row.Scenario} | {row.Target} | {m.PerSecond:N0} | {Ratio(m.PerSecond, round.Baseline.PerSecond, isBaseline)} | {Ms(m.PercentileMs(50))} | {Ms(m.PercentileMs(95))} | {Ms(m.PercentileMs(99))} | {Ratio(m.PercentileMs(50), round.Baseline.PercentileMs(50), isBaseline)} | {m.ErrorSummary} | {(row.Derived ? "″" : Fixed(m.TargetCpuPercent, 0))} | {(row.Derived ? "″" : Fixed(m.TargetCpuMicrosPerCall, 0))} | {(row.Derived ? "″" : Fixed(m.GeneratorCpuPercent, 0))} |");
            }
            Line($"");
            Line($"″ = the same calls as the row above (6b times the frames of the steers in 6a).");
        }

        var one = results.OneAtATime;
        Line($"");
        Line($"### One at a time (1 connection): latency without queueing");
        Line($"");
        Line($"| # | Scenario | Process | samples | p50 ms | p95 ms | p99 ms | × baseline p50 | × baseline p99 | errors |");
        Line($"|---|---|---|---:|---:|---:|---:|---:|---:|---|");
        foreach (var row in one.Rows)
        {
            var m = row.Result;
            var isBaseline = ReferenceEquals(m, one.Baseline);
            Line($"| {row.Id} | {row.Scenario} | {row.Target} | {m.Succeeded:N0} | {Ms(m.PercentileMs(50))} | {Ms(m.PercentileMs(95))} | {Ms(m.PercentileMs(99))} | {Ratio(m.PercentileMs(50), one.Baseline.PercentileMs(50), isBaseline)} | {Ratio(m.PercentileMs(99), one.Baseline.PercentileMs(99), isBaseline)} | {m.ErrorSummary} |");
        }
        Line($"");
        Line($"B1 is one request at a time to the bare endpoint. 6c: one operator steers, timed from the POST's start to the frame read by the agent. 7 and 7e: one writer, one watcher, one write at a time ({options.Writes} measured writes after a few unmeasured), timed from the write's start to the watcher reading the change.");

        var pairs = results.Rounds.SelectMany(r => r.Pairs.Select(p => (r.Connections, Pair: p))).Concat(one.Pairs.Select(p => (Connections: 1, Pair: p))).ToList();
        Line($"");
        Line($"### session-mesh against etcd, side by side in this run");
        Line($"");
        if (pairs.Count == 0)
        {
            Line($"No etcd in this run (see the notes below): nothing to compare.");
        }
        else
        {
            Line($"| Pair | connections | mesh req/s | etcd req/s | mesh ÷ etcd req/s | mesh p50 ms | etcd p50 ms | mesh ÷ etcd p50 | mesh p99 ms | etcd p99 ms | mesh ÷ etcd p99 | mesh CPU µs/call | etcd CPU µs/call |");
            Line($"|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var (connections, pair) in pairs)
            {
                var watch = connections == 1;
                var (mesh, etcd) = (pair.Mesh, pair.Etcd);
                Line($"| {pair.Name} | {connections} | {(watch ? "–" : mesh.PerSecond.ToString("N0", s_invariant))} | {(watch ? "–" : etcd.PerSecond.ToString("N0", s_invariant))} | {(watch ? "–" : Ratio(mesh.PerSecond, etcd.PerSecond, false))} | {Ms(mesh.PercentileMs(50))} | {Ms(etcd.PercentileMs(50))} | {Ratio(mesh.PercentileMs(50), etcd.PercentileMs(50), false)} | {Ms(mesh.PercentileMs(99))} | {Ms(etcd.PercentileMs(99))} | {Ratio(mesh.PercentileMs(99), etcd.PercentileMs(99), false)} | {(watch ? "–" : Fixed(mesh.TargetCpuMicrosPerCall, 0))} | {(watch ? "–" : Fixed(etcd.TargetCpuMicrosPerCall, 0))} |");
            }
            Line($"");
            Line($"Above 1× in req/s the mesh does more of that job per second than etcd; above 1× in latency it takes longer. etcd is driven through its HTTP/JSON gateway, the same transport as the mesh's API. The baseline, heartbeats and keepalives are measured interleaved, and so are joins and grants: the window is cut into slices of about 1 s, run in turn, and each one's slices are added up, so that a spell of noise from the machine falls on all of them.");
        }

        if (results.Memory.Count > 0)
        {
            var before = results.Memory[0];
            Line($"");
            Line($"### Server memory with {options.Agents} agents (the server process's RSS, from /proc)");
            Line($"");
            Line($"| Phase | RSS MB | Δ RSS vs before | peak RSS MB |");
            Line($"|---|---:|---:|---:|");
            foreach (var s in results.Memory)
            {
                Line($"| {s.Phase} | {Mb(s.ResidentBytes)} | {SignedMb(s.ResidentBytes - before.ResidentBytes)} | {Mb(s.PeakResidentBytes)} |");
            }
            if (results.Memory.Count >= 3)
            {
                var joined = results.Memory[1];
                var streaming = results.Memory[2];
                Line($"");
                Line($"Per joined agent: {(joined.ResidentBytes - before.ResidentBytes) / 1024.0 / options.Agents:0.0} KB RSS. Per open command stream (server side only): {(streaming.ResidentBytes - joined.ResidentBytes) / 1024.0 / options.Agents:0.0} KB RSS. The server collects garbage when it likes, so RSS includes memory its GC has not returned.");
            }
        }

        if (results.Notes.Count > 0)
        {
            Line($"");
            foreach (var note in results.Notes)
            {
                Line($"- {note}");
            }
        }
        return text.ToString();
    }

    /// <summary>The machine and runtime lines every report starts with.</summary>
    public static string MachineLines() => string.Create(s_invariant,
        $"""
        - Machine: {Environment.ProcessorCount} logical CPUs ({CpuModel()}), {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 1073741824.0:0.0} GB RAM, {RuntimeInformation.OSDescription}
        - Runtime: {RuntimeInformation.FrameworkDescription} {RuntimeInformation.ProcessArchitecture}, {(GCSettings.IsServerGC ? "server" : "workstation")} GC in the load generator, Release build: {IsOptimized()}

        """);

    private static string Ratio(double value, double baseline, bool isBaseline) =>
        isBaseline ? "1.00×" : double.IsNaN(value) || double.IsNaN(baseline) || baseline == 0 ? "–" : (value / baseline).ToString(value / baseline >= 10 ? "0" : "0.00", s_invariant) + "×";

    private static string Ms(double value) => double.IsNaN(value) ? "–" : value.ToString(value >= 100 ? "0" : "0.00", s_invariant);

    private static string Fixed(double value, int decimals) => double.IsNaN(value) ? "–" : value.ToString("F" + decimals.ToString(s_invariant), s_invariant);

    private static string Mb(long bytes) => (bytes / 1048576.0).ToString("0.0", s_invariant);

    private static string SignedMb(long bytes) => (bytes / 1048576.0).ToString("+0.0;-0.0;0.0", s_invariant);

    private static string CpuModel()
    {
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            return line is null ? RuntimeInformation.ProcessArchitecture.ToString() : line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
        }
        catch (IOException)
        {
            return "model unknown";
        }
        catch (UnauthorizedAccessException)
        {
            return "model unknown";
        }
    }

    /// <summary>"yes" when the bench was compiled with optimizations (it builds the server and baseline in the same configuration).</summary>
    private static string IsOptimized()
    {
        var debuggable = typeof(Report).Assembly.GetCustomAttributes(typeof(System.Diagnostics.DebuggableAttribute), false)
            .OfType<System.Diagnostics.DebuggableAttribute>().FirstOrDefault();
        return debuggable is { IsJITOptimizerDisabled: true } ? "no (Debug: numbers not representative)" : "yes";
    }
}
