using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace SessionMesh.LoadGen;

/// <summary>
/// The soak run's figures, bucketed per minute of the run: latencies per kind of call, errors, and the server's RSS
/// at the end of each minute, so a leak or a slow drift shows as a trend rather than hiding in one average.
/// </summary>
internal sealed class SoakRecorder(ChildProcess server, int minutes)
{
    private readonly long _started = Stopwatch.GetTimestamp();
    private readonly Lock _lock = new();
    private readonly SortedDictionary<int, Minute> _minutes = [];
    private readonly Dictionary<string, long> _totals = [];
    private readonly List<string> _firstErrors = [];

    public long StartRss { get; } = server.ResidentBytes();

    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(_started);

    /// <summary>The minute of the run now; the calls still answered after the last minute ends count in it.</summary>
    private int CurrentMinute => Math.Min((int)Elapsed.TotalMinutes, minutes - 1);

    /// <summary>A call that got the answer it should, and how long it took.</summary>
    public void Ok(string kind, TimeSpan latency)
    {
        lock (_lock)
        {
            var minute = MinuteOf(CurrentMinute);
            if (!minute.Latencies.TryGetValue(kind, out var list))
            {
                minute.Latencies[kind] = list = [];
            }
            list.Add(latency.TotalMilliseconds);
            _totals[kind] = _totals.GetValueOrDefault(kind) + 1;
        }
    }

    /// <summary>A call that failed or got an answer it should not have; the first few are kept for the report.</summary>
    public void Error(string kind, string what)
    {
        lock (_lock)
        {
            MinuteOf(CurrentMinute).Errors++;
            _totals["errors"] = _totals.GetValueOrDefault("errors") + 1;
            if (_firstErrors.Count < 10)
            {
                _firstErrors.Add($"{kind}: {what}");
            }
        }
    }

    /// <summary>Counts something that is neither a latency nor an error (kills answered by a rejoin, steers skipped while behind).</summary>
    public void Count(string what)
    {
        lock (_lock)
        {
            _totals[what] = _totals.GetValueOrDefault(what) + 1;
        }
    }

    /// <summary>Samples the server's RSS into the current minute (the last sample of a minute stands for it).</summary>
    public void SampleRss()
    {
        var rss = server.ResidentBytes();
        lock (_lock)
        {
            MinuteOf(CurrentMinute).Rss = rss;
        }
    }

    public string Render(string title, string commandLine, string setup)
    {
        var endRss = server.ResidentBytes();
        var text = new StringBuilder();
        lock (_lock)
        {
            var kinds = _minutes.Values.SelectMany(m => m.Latencies.Keys).Distinct().Order(StringComparer.Ordinal).ToList();
            text.AppendLine(CultureInfo.InvariantCulture, $"## {title}").AppendLine();
            text.AppendLine(CultureInfo.InvariantCulture, $"`{commandLine}`").AppendLine();
            text.AppendLine(setup).AppendLine();
            text.AppendLine(CultureInfo.InvariantCulture,
                $"Server RSS: {Mb(StartRss)} MB at the start of the load, {Mb(endRss)} MB at the end, peak {Mb(server.PeakResidentBytes())} MB.").AppendLine();
            text.AppendLine("Totals: " + string.Join(", ", _totals.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => $"{t.Key} {t.Value}")) + ".").AppendLine();
            text.AppendLine("| minute | calls | errors | " + string.Join(" | ", kinds.Select(k => $"{k} p50 / p99 ms")) + " | RSS MB |");
            text.AppendLine("| ---: | ---: | ---: | " + string.Join(" | ", kinds.Select(_ => "---:")) + " | ---: |");
            foreach (var (index, minute) in _minutes)
            {
                var cells = kinds.Select(k => minute.Latencies.TryGetValue(k, out var l) ? $"{Percentile(l, 0.50):0.0} / {Percentile(l, 0.99):0.0}" : "–");
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"| {index + 1} | {minute.Latencies.Values.Sum(l => l.Count)} | {minute.Errors} | {string.Join(" | ", cells)} | {(minute.Rss > 0 ? Mb(minute.Rss) : "–")} |");
            }
            if (_firstErrors.Count > 0)
            {
                text.AppendLine().AppendLine("First errors:").AppendLine();
                foreach (var error in _firstErrors)
                {
                    text.AppendLine("- " + error);
                }
            }
        }
        return text.ToString();
    }

    private Minute MinuteOf(int index)
    {
        if (!_minutes.TryGetValue(index, out var minute))
        {
            _minutes[index] = minute = new Minute();
        }
        return minute;
    }

    private static double Percentile(List<double> values, double p)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
    }

    private static string Mb(long bytes) => (bytes / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture);

    private sealed class Minute
    {
        public Dictionary<string, List<double>> Latencies { get; } = [];

        public long Errors { get; set; }

        public long Rss { get; set; }
    }
}
