using System.Globalization;
using System.Text.RegularExpressions;

namespace SessionMesh.LoadGen;

/// <summary>
/// A process's collections, their pauses, its allocations and its JIT's compiling time, read from the .NET runtime's
/// series on its <c>/metrics</c> (the server's <c>System.Runtime</c> meter; the relay writes the same names): read
/// before and after a window, the difference says what the collector and the JIT did in it.
/// </summary>
internal sealed record RuntimeCounters(long Gen0, long Gen1, long Gen2, double PauseSeconds, long AllocatedBytes, double JitSeconds)
{
    public const string MetricsPath = "metrics";

    /// <summary>The counters now, or null when the target serves none of them (or could not be asked).</summary>
    public static async Task<RuntimeCounters?> ReadAsync(HttpClient http, CancellationToken cancellationToken)
    {
        try
        {
            return await ReadOrThrowAsync(http, cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or FormatException || ex is TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    private static async Task<RuntimeCounters?> ReadOrThrowAsync(HttpClient http, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(MetricsPath, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            return null;
        }
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        long Collections(string generation) => Value(text, $"dotnet_gc_collections_total\\{{[^}}]*gc_heap_generation=\"{generation}\"[^}}]*\\}}") is { } v ? (long)v : 0;
        if (Value(text, "dotnet_gc_pause_time_seconds_total(?:\\{[^}]*\\})?") is not { } pause)
        {
            return null;
        }
        return new RuntimeCounters(Collections("gen0"), Collections("gen1"), Collections("gen2"), pause,
            (long)(Value(text, "dotnet_gc_heap_total_allocated_bytes_total(?:\\{[^}]*\\})?") ?? 0),
            Value(text, "dotnet_jit_compilation_time_seconds_total(?:\\{[^}]*\\})?") ?? 0);
    }

    /// <summary>What happened between <paramref name="before"/> and this reading, for a window of <paramref name="operations"/> calls.</summary>
    public string Since(RuntimeCounters before, long operations) => string.Create(CultureInfo.InvariantCulture,
        $"{Gen0 - before.Gen0 + Gen1 - before.Gen1 + Gen2 - before.Gen2} collections (gen0 {Gen0 - before.Gen0}, gen1 {Gen1 - before.Gen1}, gen2 {Gen2 - before.Gen2}), paused {(PauseSeconds - before.PauseSeconds) * 1000:0} ms in all, {(AllocatedBytes - before.AllocatedBytes) / 1024.0 / Math.Max(1, operations):0.0} KB allocated per steer; its JIT compiled for {JitMsSince(before):0} ms");

    /// <summary>Milliseconds the JIT spent compiling between <paramref name="before"/> and this reading.</summary>
    public double JitMsSince(RuntimeCounters before) => (JitSeconds - before.JitSeconds) * 1000;

    private static double? Value(string text, string series)
    {
        var match = Regex.Match(text, "^" + series + " ([0-9.eE+-]+)", RegexOptions.Multiline);
        return match.Success ? double.Parse(match.Groups[1].Value, NumberStyles.Float, CultureInfo.InvariantCulture) : null;
    }
}
