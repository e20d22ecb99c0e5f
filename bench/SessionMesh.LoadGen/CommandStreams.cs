using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.ServerSentEvents;
using System.Text.Json;

namespace SessionMesh.LoadGen;

/// <summary>
/// Agents holding their SSE command streams open, as a real fleet does. Each stream is read by its own task;
/// a <c>command</c> frame whose direction is a token the operator announced with <see cref="Expect"/> is timed
/// from the operator's POST start to the frame's arrival. Every stream stops when disposed (or at the run's budget).
/// </summary>
internal sealed class CommandStreams : IAsyncDisposable
{
    private static readonly TimeSpan s_readyTimeout = TimeSpan.FromSeconds(30);

    private readonly CancellationTokenSource _stop;
    private readonly Lock _lock = new();
    private readonly List<HttpResponseMessage> _responses = [];
    private readonly List<Task> _readers = [];
    private readonly List<long> _deliveries = [];
    private readonly ConcurrentDictionary<string, Expectation> _expected = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _seen = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _forgotten = new(StringComparer.Ordinal);
    private long _unmatched;
    private long _duplicates;
    private long _late;
    private long _ended;
    private long _broken;
    private int _disposed;

    private CommandStreams(CancellationToken cancellationToken)
    {
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
    }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _responses.Count;
            }
        }
    }

    /// <summary>Command frames that matched no announced token, not even a failed steer's (should stay 0).</summary>
    public long Unmatched => Interlocked.Read(ref _unmatched);

    /// <summary>Command frames whose token had already come once (should stay 0: at least once allows them only after a reconnect).</summary>
    public long Duplicates => Interlocked.Read(ref _duplicates);

    /// <summary>Frames of steers whose POST failed (a timeout): the command was queued after all, and reached its agent late.</summary>
    public long Late => Interlocked.Read(ref _late);

    /// <summary>Streams the server ended (an <c>end</c> frame) or that broke before the bench closed them (should stay 0).</summary>
    public long Lost => Interlocked.Read(ref _ended) + Interlocked.Read(ref _broken);

    /// <summary>
    /// Opens a stream for each agent (each must have joined), <paramref name="parallelism"/> at a time, and returns
    /// once every stream has sent its first <c>lease</c> frame, i.e. is attached and waiting for commands.
    /// </summary>
    public static async Task<CommandStreams> OpenAsync(HttpClient http, IReadOnlyList<string> agentIds, int parallelism, CancellationToken cancellationToken)
    {
        var streams = new CommandStreams(cancellationToken);
        try
        {
            var options = new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken };
            await Parallel.ForEachAsync(agentIds, options, async (agentId, token) =>
            {
                var response = await MeshApi.OpenCommandStreamAsync(http, agentId, token);
                var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                lock (streams._lock)
                {
                    streams._responses.Add(response);
                    streams._readers.Add(streams.ReadAsync(response, ready));
                }
                await ready.Task.WaitAsync(s_readyTimeout, token);
            });
            return streams;
        }
        catch
        {
            await streams.DisposeAsync();
            throw;
        }
    }

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

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        await _stop.CancelAsync();
        Task[] readers;
        HttpResponseMessage[] responses;
        lock (_lock)
        {
            readers = [.. _readers];
            responses = [.. _responses];
        }
        foreach (var response in responses)
        {
            response.Dispose();
        }
        // Readers end on the cancellation; the bound only guards against a reader that ignores it.
        await Task.WhenAll(readers).WaitAsync(TimeSpan.FromSeconds(15), CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }

    private async Task ReadAsync(HttpResponseMessage response, TaskCompletionSource ready)
    {
        // Off the opener's call, so that opening the next stream does not wait on this one's first read.
        await Task.Yield();
        try
        {
            await using var body = await response.Content.ReadAsStreamAsync(_stop.Token);
            await foreach (var frame in SseParser.Create(body).EnumerateAsync(_stop.Token))
            {
                var arrived = Stopwatch.GetTimestamp();
                switch (frame.EventType)
                {
                    case "lease":
                        ready.TrySetResult();
                        break;
                    case "command":
                        OnCommand(frame.Data, arrived);
                        break;
                    case "end":
                        Interlocked.Increment(ref _ended);
                        ready.TrySetException(new InvalidOperationException($"The server ended the stream: {frame.Data}"));
                        return;
                }
            }
            if (!_stop.IsCancellationRequested)
            {
                Interlocked.Increment(ref _broken);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or ObjectDisposedException)
        {
            if (!_stop.IsCancellationRequested)
            {
                Interlocked.Increment(ref _broken);
            }
            ready.TrySetException(ex);
        }
        finally
        {
            ready.TrySetException(new InvalidOperationException("The stream closed before its first lease frame."));
        }
    }

    private void OnCommand(string data, long arrived)
    {
        using var json = JsonDocument.Parse(data);
        if (json.RootElement.TryGetProperty("direction", out var direction)
            && direction.GetString() is { } token
            && _expected.TryRemove(token, out var expectation))
        {
            _seen.TryAdd(token, 0);
            if (expectation.Measured)
            {
                lock (_lock)
                {
                    _deliveries.Add(arrived - expectation.Start);
                }
            }
            return;
        }
        if (direction.ValueKind == JsonValueKind.String && direction.GetString() is { } other)
        {
            if (_seen.ContainsKey(other))
            {
                Interlocked.Increment(ref _duplicates);
                return;
            }
            if (_forgotten.TryRemove(other, out _))
            {
                Interlocked.Increment(ref _late);
                return;
            }
        }
        Interlocked.Increment(ref _unmatched);
    }

    private readonly record struct Expectation(long Start, bool Measured);
}
