using System.Diagnostics;

namespace SessionMesh.LoadGen;

/// <summary>What one worker knows about the call it is making.</summary>
internal sealed class WorkerContext(int index, HttpClient http)
{
    public int Index { get; } = index;

    public HttpClient Http { get; } = http;

    /// <summary>How many calls this worker has made in the scenario so far (warm-up included).</summary>
    public long Iteration { get; set; }

    /// <summary>True when the call falls in the measured window (not the warm-up).</summary>
    public bool Measured { get; set; }
}

/// <summary>
/// A closed-loop run: each of N workers makes one call, waits for the whole answer, makes the next — for an
/// unmeasured lead-in, then a measured window; it stops by itself at the end of the window or at a per-worker cap.
/// Latency is per successful call; throughput is successful calls per second of the measured window.
/// </summary>
internal static class ClosedLoop
{
    /// <summary>Status recorded for a call that failed without an HTTP answer (connection error).</summary>
    public const int ConnectionError = -1;

    /// <summary>Status recorded for a call that hit the client's per-request timeout.</summary>
    public const int Timeout = -2;

    /// <summary>Status recorded for a steer whose command frame never reached the agent's stream.</summary>
    public const int NoFrame = -3;

    public static async Task<Measurement> RunAsync(
        string name,
        IReadOnlyList<HttpClient> clients,
        TimeSpan leadIn,
        TimeSpan duration,
        long maxRequestsPerWorker,
        Func<WorkerContext, CancellationToken, Task<int>> call,
        ChildProcess target,
        CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        var measureFrom = start + ToTicks(leadIn);
        var stopAt = measureFrom + ToTicks(duration);

        // The CPU counters are read when the measured window opens, from a timer rather than a worker.
        var opening = SnapshotAtAsync(measureFrom, target, cancellationToken);
        var workers = clients.Select((client, index) => WorkerAsync(new WorkerContext(index, client), call, measureFrom, stopAt, maxRequestsPerWorker, cancellationToken)).ToList();
        var results = await Task.WhenAll(workers);
        var end = Stopwatch.GetTimestamp();
        var closing = ProcessCounters.Read(target);
        var opened = await opening;

        return Measurement.Merge(name, results.Select(r => r.Latencies), results.SelectMany(r => r.Errors), Stopwatch.GetElapsedTime(measureFrom, end), closing - opened);
    }

    private static async Task<ProcessCounters> SnapshotAtAsync(long timestamp, ChildProcess target, CancellationToken cancellationToken)
    {
        var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), timestamp);
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, cancellationToken);
        }
        return ProcessCounters.Read(target);
    }

    private static async Task<WorkerResult> WorkerAsync(
        WorkerContext context,
        Func<WorkerContext, CancellationToken, Task<int>> call,
        long measureFrom,
        long stopAt,
        long maxRequests,
        CancellationToken cancellationToken)
    {
        // Yield at once, so that starting N workers does not run N first calls on the caller's thread.
        await Task.Yield();
        var latencies = new List<long>(capacity: 4096);
        var errors = new Dictionary<int, long>();
        while (!cancellationToken.IsCancellationRequested && context.Iteration < maxRequests)
        {
            var began = Stopwatch.GetTimestamp();
            if (began >= stopAt)
            {
                break;
            }
            context.Measured = began >= measureFrom;
            int status;
            try
            {
                status = await call(context, cancellationToken);
            }
            catch (HttpRequestException)
            {
                status = ConnectionError;
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                status = Timeout;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            var ended = Stopwatch.GetTimestamp();
            context.Iteration++;
            if (!context.Measured)
            {
                continue;
            }
            if (status is >= 200 and < 300)
            {
                latencies.Add(ended - began);
            }
            else
            {
                errors[status] = errors.GetValueOrDefault(status) + 1;
            }
        }
        return new WorkerResult(latencies, errors);
    }

    private static long ToTicks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);

    private sealed record WorkerResult(List<long> Latencies, Dictionary<int, long> Errors);
}

/// <summary>CPU time of the process under load (read from /proc, outside it) and of the load generator itself.</summary>
internal readonly record struct ProcessCounters(TimeSpan TargetCpu, TimeSpan GeneratorCpu)
{
    public static ProcessCounters Read(ChildProcess target) => new(target.CpuTime(), Environment.CpuUsage.TotalTime);

    public static ProcessCounters operator -(ProcessCounters a, ProcessCounters b) =>
        new(a.TargetCpu - b.TargetCpu, a.GeneratorCpu - b.GeneratorCpu);

    public static ProcessCounters operator +(ProcessCounters a, ProcessCounters b) =>
        new(a.TargetCpu + b.TargetCpu, a.GeneratorCpu + b.GeneratorCpu);
}

/// <summary>One scenario's measured window: sorted latencies (Stopwatch ticks) of successful calls, failures by status.</summary>
internal sealed record Measurement(string Name, long[] Latencies, IReadOnlyDictionary<int, long> Errors, TimeSpan Elapsed, ProcessCounters Counters)
{
    public long Succeeded => Latencies.Length;

    public long Failed => Errors.Values.Sum();

    public double PerSecond => Succeeded / Elapsed.TotalSeconds;

    /// <summary>Nearest-rank percentile in milliseconds; NaN with no samples.</summary>
    public double PercentileMs(double percentile)
    {
        if (Latencies.Length == 0)
        {
            return double.NaN;
        }
        var rank = (int)Math.Ceiling(percentile / 100 * Latencies.Length);
        return Latencies[Math.Clamp(rank - 1, 0, Latencies.Length - 1)] * 1000.0 / Stopwatch.Frequency;
    }

    /// <summary>Share of the machine's CPUs the target process used over the window, in percent of all cores.</summary>
    public double TargetCpuPercent => Counters.TargetCpu.TotalSeconds / Elapsed.TotalSeconds / Environment.ProcessorCount * 100;

    /// <summary>Share of the machine's CPUs the load generator used over the window, in percent of all cores.</summary>
    public double GeneratorCpuPercent => Counters.GeneratorCpu.TotalSeconds / Elapsed.TotalSeconds / Environment.ProcessorCount * 100;

    /// <summary>The target process's CPU time per successful call, in microseconds (the server's side only).</summary>
    public double TargetCpuMicrosPerCall => Succeeded == 0 ? double.NaN : Counters.TargetCpu.TotalMicroseconds / Succeeded;

    /// <summary>One measurement of windows measured apart (the slices of an interleaved run): their calls, failures, time and CPU added up.</summary>
    public static Measurement Combine(string name, IReadOnlyList<Measurement> parts) =>
        Merge(name, parts.Select(p => p.Latencies), parts.SelectMany(p => p.Errors),
            parts.Aggregate(TimeSpan.Zero, (sum, p) => sum + p.Elapsed),
            parts.Aggregate(new ProcessCounters(TimeSpan.Zero, TimeSpan.Zero), (sum, p) => sum + p.Counters));

    /// <summary>A measurement from several workers' or windows' latencies (sorted together) and failures (added up by status).</summary>
    public static Measurement Merge(string name, IEnumerable<IEnumerable<long>> latencies, IEnumerable<KeyValuePair<int, long>> errors, TimeSpan elapsed, ProcessCounters counters)
    {
        var sorted = latencies.SelectMany(l => l).ToArray();
        Array.Sort(sorted);
        var byStatus = new SortedDictionary<int, long>();
        foreach (var (status, count) in errors)
        {
            byStatus[status] = byStatus.GetValueOrDefault(status) + count;
        }
        return new Measurement(name, sorted, byStatus, elapsed, counters);
    }

    /// <summary>The failures as "409×3, timeout×1", or "0".</summary>
    public string ErrorSummary => Errors.Count == 0 ? "0" : string.Join(", ", Errors.Select(e => $"{StatusName(e.Key)}×{e.Value}"));

    private static string StatusName(int status) => status switch
    {
        ClosedLoop.ConnectionError => "conn",
        ClosedLoop.Timeout => "timeout",
        ClosedLoop.NoFrame => "no frame",
        _ => status.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
