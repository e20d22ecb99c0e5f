using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.ServerSentEvents;

namespace SessionMesh.LoadGen;

/// <summary>
/// Watchers of <c>GET /events</c> (SSE, from now on), each on its own connection, each reading every frame and handing
/// it to <c>onFrame</c> (or dropping it, for idle watchers that only cost the server a fan-out). Open once each has
/// read its first frame (the ping a watch from now starts with); disposing closes every one.
/// </summary>
internal sealed class EventWatchers : IAsyncDisposable
{
    private static readonly TimeSpan s_readyTimeout = TimeSpan.FromSeconds(30);

    private readonly CancellationTokenSource _stop;
    private readonly Action<SseItem<string>, long>? _onFrame;
    private readonly string _path;
    private readonly ConcurrentBag<Task> _watchers = [];
    private long _broken;

    private EventWatchers(string path, Action<SseItem<string>, long>? onFrame, CancellationToken cancellationToken)
    {
        _path = path;
        _onFrame = onFrame;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
    }

    public int Count => _watchers.Count;

    /// <summary>Watches that broke before they were closed (should stay 0).</summary>
    public long Broken => Interlocked.Read(ref _broken);

    /// <summary>
    /// Opens <paramref name="count"/> watches of <paramref name="path"/> (default: every event of the key's cluster),
    /// <paramref name="parallelism"/> at a time; <paramref name="onFrame"/> gets each frame with its arrival timestamp.
    /// </summary>
    public static async Task<EventWatchers> OpenAsync(HttpClient http, int count, int parallelism, Action<SseItem<string>, long>? onFrame, CancellationToken cancellationToken, string path = MeshApi.EventsPath)
    {
        var watchers = new EventWatchers(path, onFrame, cancellationToken);
        try
        {
            var options = new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken };
            await Parallel.ForEachAsync(Enumerable.Range(0, count), options, async (_, token) =>
            {
                var attached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                watchers._watchers.Add(watchers.WatchAsync(http, attached));
                await attached.Task.WaitAsync(s_readyTimeout, token);
            });
            return watchers;
        }
        catch
        {
            await watchers.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        // Each watch ends on the cancellation; the bound only guards against one that ignores it.
        await Task.WhenAll(_watchers).WaitAsync(TimeSpan.FromSeconds(15), CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }

    private async Task WatchAsync(HttpClient http, TaskCompletionSource attached)
    {
        await Task.Yield();
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, _path);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, _stop.Token);
            response.EnsureSuccessStatusCode();
            await using var body = await response.Content.ReadAsStreamAsync(_stop.Token);
            await foreach (var frame in SseParser.Create(body).EnumerateAsync(_stop.Token))
            {
                var arrived = Stopwatch.GetTimestamp();
                attached.TrySetResult();
                _onFrame?.Invoke(frame, arrived);
            }
            Interlocked.Increment(ref _broken);
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or ObjectDisposedException)
        {
            Interlocked.Increment(ref _broken);
            attached.TrySetException(ex);
        }
        finally
        {
            attached.TrySetException(new InvalidOperationException("The watch closed before its first frame."));
        }
    }
}
