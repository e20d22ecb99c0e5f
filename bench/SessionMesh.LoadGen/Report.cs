using System.Globalization;
using System.Runtime;
using System.Runtime.InteropServices;
using System.Text;

namespace SessionMesh.LoadGen;

/// <summary>The results as markdown: the machine, the command, the scenario table with ratios to the baseline, memory.</summary>
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
        Line($"- Machine: {Environment.ProcessorCount} logical CPUs ({CpuModel()}), {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 1073741824.0:0.0} GB RAM, {RuntimeInformation.OSDescription}");
        Line($"- Runtime: {RuntimeInformation.FrameworkDescription} {RuntimeInformation.ProcessArchitecture}, {(GCSettings.IsServerGC ? "server" : "workstation")} GC, Release build: {IsOptimized()}");
        Line($"- Command: `{options.CommandLine()}`");
        Line($"- Disk under the store: fsync of a 4 KB append p50 {results.Fsync.P50Ms:0.000} ms, p99 {results.Fsync.P99Ms:0.000} ms ({results.Fsync.Rounds} rounds).");
        Line($"- Load: {options.Workers} closed-loop workers (each sends, reads the whole answer, sends again). Before anything is measured, a warm-up round runs every scenario for {options.Warmup.TotalSeconds:0} s; then each scenario gets a {LoadGenOptions.LeadIn.TotalSeconds:0} s unmeasured lead-in and {options.Duration.TotalSeconds:0} s measured. {options.Streams} agents hold SSE command streams throughout. Server and load generator share this process and its CPUs; all traffic is on 127.0.0.1.");
        Line($"- req/s counts successful calls; latency percentiles are of successful calls. CPU % is of all {Environment.ProcessorCount} CPUs; CPU and allocation per call are for the whole process (client + server). WAL MB: size of session-mesh.db-wal after the scenario.");
        Line($"- Whole run: {results.Total.TotalSeconds:0} s. Load average (1/5/15 min) at the start: {results.LoadAverageAtStart}, at the end (this run included): {Bench.LoadAverage()}; row 7 against row 1 shows the drift.");
        Line($"");
        Line($"| # | Scenario | Server work per call | req/s | × baseline req/s | p50 ms | p95 ms | p99 ms | × baseline p50 | errors | CPU % | CPU µs/call | alloc KB/call | WAL MB |");
        Line($"|---|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|");
        var baseline = results.Baseline;
        foreach (var row in results.Rows)
        {
            var m = row.Result;
            var isBaseline = ReferenceEquals(m, baseline);
            var throughputRatio = row.Compare ? Ratio(m.PerSecond, baseline.PerSecond, isBaseline) : "n/a";
            var latencyRatio = row.Compare ? Ratio(m.PercentileMs(50), baseline.PercentileMs(50), isBaseline) : "n/a";
            Line($"| {row.Id} | {row.Scenario} | {row.ServerWork} | {m.PerSecond:N0} | {throughputRatio} | {Ms(m.PercentileMs(50))} | {Ms(m.PercentileMs(95))} | {Ms(m.PercentileMs(99))} | {latencyRatio} | {m.ErrorSummary} | {(row.Derived ? "″" : Fixed(m.CpuPercent, 0))} | {(row.Derived ? "″" : Fixed(m.CpuMicrosPerCall, 0))} | {(row.Derived ? "″" : Fixed(m.AllocatedKbPerCall, 1))} | {row.WalMbAfter:0.0} |");
        }
        Line($"");
        Line($"″ = the same calls as the row above (6b times the frames of the steers in 6a). n/a: 6c runs 1 worker, the baseline {options.Workers}, so a ratio would compare different loads.");

        if (results.Memory.Count > 0)
        {
            var before = results.Memory[0];
            Line($"");
            Line($"### Memory with {options.Agents} agents (whole process, after a full compacting GC)");
            Line($"");
            Line($"| Phase | GC heap MB | GC committed MB | Working set MB | Private MB | Δ GC heap vs before | Δ working set vs before |");
            Line($"|---|---:|---:|---:|---:|---:|---:|");
            foreach (var s in results.Memory)
            {
                Line($"| {s.Phase} | {Mb(s.GcHeapBytes)} | {Mb(s.GcCommittedBytes)} | {Mb(s.WorkingSetBytes)} | {Mb(s.PrivateBytes)} | {SignedMb(s.GcHeapBytes - before.GcHeapBytes)} | {SignedMb(s.WorkingSetBytes - before.WorkingSetBytes)} |");
            }
            if (results.Memory.Count >= 3)
            {
                var joined = results.Memory[1];
                var streaming = results.Memory[2];
                Line($"");
                Line($"Per joined agent: {(joined.GcHeapBytes - before.GcHeapBytes) / (double)options.Agents:N0} B GC heap, {(joined.WorkingSetBytes - before.WorkingSetBytes) / 1024.0 / options.Agents:0.0} KB working set. Per open command stream (client and server side together): {(streaming.GcHeapBytes - joined.GcHeapBytes) / 1024.0 / options.Agents:0.0} KB GC heap, {(streaming.WorkingSetBytes - joined.WorkingSetBytes) / 1024.0 / options.Agents:0.0} KB working set.");
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

    /// <summary>"yes" when the bench (and so the server it references) was compiled with optimizations.</summary>
    private static string IsOptimized()
    {
        var debuggable = typeof(Report).Assembly.GetCustomAttributes(typeof(System.Diagnostics.DebuggableAttribute), false)
            .OfType<System.Diagnostics.DebuggableAttribute>().FirstOrDefault();
        return debuggable is { IsJITOptimizerDisabled: true } ? "no (Debug: numbers not representative)" : "yes";
    }
}
