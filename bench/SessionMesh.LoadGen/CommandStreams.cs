using System.Diagnostics;
using System.Net.ServerSentEvents;
using System.Text.Json;

namespace SessionMesh.LoadGen;

/// <summary>
/// Agents holding their SSE command streams open, as a real fleet does. Each stream is read by its own task, and
/// every <c>command</c> frame goes to the sink given at open with its direction and its arrival time
/// (<see cref="SteerFrames.OnFrame"/> in this process, a line to the parent in a stream host). Every stream stops
/// when disposed (or at the run's budget).
/// </summary>
internal sealed class CommandStreams : IStreamFleet
{
    private static readonly TimeSpan s_readyTimeout = TimeSpan.FromSeconds(30);

    private readonly CancellationTokenSource _stop;
    private readonly Action<string?, long> _onCommand;
    private readonly Action? _onLost;
    private readonly Lock _lock = new();
    private readonly List<HttpResponseMessage> _responses = [];
    private readonly List<Task> _readers = [];
    private long _ended;
    private long _broken;
    private int _disposed;

    private CommandStreams(Action<string?, long> onCommand, Action? onLost, CancellationToken cancellationToken)
    {
        _onCommand = onCommand;
        _onLost = onLost;
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

    /// <summary>Streams the server ended (an <c>end</c> frame) or that broke before the bench closed them (should stay 0).</summary>
    public long Lost => Interlocked.Read(ref _ended) + Interlocked.Read(ref _broken);

    /// <summary>
    /// Opens a stream for each agent (each must have joined), <paramref name="parallelism"/> at a time, and returns
    /// once every stream has sent its first <c>lease</c> frame, i.e. is attached and waiting for commands. Each command
    /// frame goes to <paramref name="onCommand"/>, each stream lost to <paramref name="onLost"/>.
    /// </summary>
    public static async Task<CommandStreams> OpenAsync(HttpClient http, IReadOnlyList<string> agentIds, int parallelism, Action<string?, long> onCommand,
        CancellationToken cancellationToken, Action? onLost = null)
    {
        var streams = new CommandStreams(onCommand, onLost, cancellationToken);
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
                        OnLost(ref _ended);
                        ready.TrySetException(new InvalidOperationException($"The server ended the stream: {frame.Data}"));
                        return;
                }
            }
            if (!_stop.IsCancellationRequested)
            {
                OnLost(ref _broken);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or ObjectDisposedException)
        {
            if (!_stop.IsCancellationRequested)
            {
                OnLost(ref _broken);
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
        var direction = json.RootElement.TryGetProperty("direction", out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
        _onCommand(direction, arrived);
    }

    private void OnLost(ref long counter)
    {
        Interlocked.Increment(ref counter);
        _onLost?.Invoke();
    }
}
