using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace SessionMesh.LoadGen;

/// <summary>
/// Matches the command frames agents read against the steers the operator announced (<see cref="Expect"/>): each
/// steer carries a unique token as its direction, and is timed from its POST's start to its frame's arrival. Frames
/// come from streams in this process or in stream hosts (<see cref="StreamHosts"/>): both stamp arrivals with
/// <see cref="Stopwatch.GetTimestamp"/>, which on Linux reads the machine's one monotonic clock.
/// </summary>
internal sealed class SteerFrames
{
    private readonly Lock _lock = new();
    private readonly List<(long Start, long Latency)> _deliveries = [];
    private readonly ConcurrentDictionary<string, Expectation> _expected = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _seen = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _forgotten = new(StringComparer.Ordinal);
    private long _unmatched;
    private long _duplicates;
    private long _late;

    /// <summary>Command frames that matched no announced token, not even a failed steer's (should stay 0).</summary>
    public long Unmatched => Interlocked.Read(ref _unmatched);

    /// <summary>Command frames whose token had already come once (should stay 0: at least once allows them only after a reconnect).</summary>
    public long Duplicates => Interlocked.Read(ref _duplicates);

    /// <summary>Frames of steers whose POST failed (a timeout): the command was queued after all, and reached its agent late.</summary>
    public long Late => Interlocked.Read(ref _late);

    /// <summary>Announces a steer about to be sent with <paramref name="token"/> as its direction.</summary>
    public void Expect(string token, long startTimestamp, bool measured) => _expected[token] = new Expectation(startTimestamp, measured);

    /// <summary>Forgets a token whose steer failed, so it is not counted as a missing frame.</summary>
    public void Forget(string token)
    {
        if (_expected.TryRemove(token, out _))
        {
            _forgotten.TryAdd(token, 0);
        }
    }

    /// <summary>A command frame an agent read at <paramref name="arrived"/>, with its direction (null when it had no string one).</summary>
    public void OnFrame(string? direction, long arrived)
    {
        if (direction is null)
        {
            Interlocked.Increment(ref _unmatched);
            return;
        }
        if (_expected.TryRemove(direction, out var expectation))
        {
            _seen.TryAdd(direction, 0);
            if (expectation.Measured)
            {
                lock (_lock)
                {
                    _deliveries.Add((expectation.Start, arrived - expectation.Start));
                }
            }
            return;
        }
        if (_seen.ContainsKey(direction))
        {
            Interlocked.Increment(ref _duplicates);
        }
        else if (_forgotten.TryRemove(direction, out _))
        {
            Interlocked.Increment(ref _late);
        }
        else
        {
            Interlocked.Increment(ref _unmatched);
        }
    }

    /// <summary>
    /// Waits (up to <paramref name="timeout"/>) for the frames of every measured steer, then returns the
    /// sorted POST-to-frame latencies and how many measured frames never came; resets for the next run. With
    /// <paramref name="timelinePath"/>, also writes each steer there in the order sent: its start (ms after the first
    /// steer's) and its latency (ms), to see when the slow ones came.
    /// </summary>
    public async Task<(long[] Latencies, long Missing)> CollectAsync(TimeSpan timeout, CancellationToken cancellationToken, string? timelinePath = null)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (_expected.Values.Any(e => e.Measured) && Stopwatch.GetTimestamp() < deadline)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(20), cancellationToken);
        }
        var missing = _expected.Values.LongCount(e => e.Measured);
        _expected.Clear();
        (long Start, long Latency)[] deliveries;
        lock (_lock)
        {
            deliveries = [.. _deliveries];
            _deliveries.Clear();
        }
        if (timelinePath is not null)
        {
            await WriteTimelineAsync(timelinePath, deliveries, cancellationToken);
        }
        var latencies = Array.ConvertAll(deliveries, d => d.Latency);
        Array.Sort(latencies);
        return (latencies, missing);
    }

    private static Task WriteTimelineAsync(string path, (long Start, long Latency)[] deliveries, CancellationToken cancellationToken)
    {
        var ordered = deliveries.OrderBy(d => d.Start).ToList();
        var first = ordered.Count > 0 ? ordered[0].Start : 0;
        var lines = ordered.Select(d => string.Create(CultureInfo.InvariantCulture,
            $"{(d.Start - first) * 1000.0 / Stopwatch.Frequency:0.000} {d.Latency * 1000.0 / Stopwatch.Frequency:0.000}"));
        return File.WriteAllLinesAsync(path, ["# start_ms latency_ms (steer -> frame), one steer per line, in the order sent", .. lines], cancellationToken);
    }

    private readonly record struct Expectation(long Start, bool Measured);
}
