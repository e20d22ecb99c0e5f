using System.Collections.Concurrent;
using System.Diagnostics;

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
    private readonly List<long> _deliveries = [];
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
                    _deliveries.Add(arrived - expectation.Start);
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
    /// sorted POST-to-frame latencies and how many measured frames never came; resets for the next run.
    /// </summary>
    public async Task<(long[] Latencies, long Missing)> CollectAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (_expected.Values.Any(e => e.Measured) && Stopwatch.GetTimestamp() < deadline)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(20), cancellationToken);
        }
        var missing = _expected.Values.LongCount(e => e.Measured);
        _expected.Clear();
        long[] latencies;
        lock (_lock)
        {
            latencies = [.. _deliveries];
            _deliveries.Clear();
        }
        Array.Sort(latencies);
        return (latencies, missing);
    }

    private readonly record struct Expectation(long Start, bool Measured);
}
