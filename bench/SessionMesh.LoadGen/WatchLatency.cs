using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;

namespace SessionMesh.LoadGen;

/// <summary>
/// How long a watcher waits for a write: one watcher, one writer, one write at a time. Each write carries a unique
/// token; its latency runs from the start of the write's request to the moment the watcher has read the change that
/// carries the token. Bounded: a fixed number of writes, each given up (counted as <c>no frame</c>) after 5 s.
/// </summary>
internal static class WatchLatency
{
    private static readonly TimeSpan s_perWrite = TimeSpan.FromSeconds(5);

    /// <summary>The whole scenario's bound: writes stop here even if not all were made.</summary>
    private static readonly TimeSpan s_total = TimeSpan.FromSeconds(120);

    /// <summary>A watch that reports each token it sees (with its arrival time) and signals once it is attached.</summary>
    public delegate Task Watch(ChannelWriter<(string Token, long Arrived)> arrivals, TaskCompletionSource ready, CancellationToken cancellationToken);

    /// <summary>A write carrying a token; returns the HTTP status.</summary>
    public delegate Task<int> Write(string token, CancellationToken cancellationToken);

    public static async Task<Measurement> MeasureAsync(string name, string tag, Watch watch, Write write, int warmupWrites, int writes, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var arrivals = Channel.CreateUnbounded<(string Token, long Arrived)>(new UnboundedChannelOptions { SingleReader = true });
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        async Task WatchAsync()
        {
            try
            {
                await watch(arrivals.Writer, ready, stop.Token);
            }
            finally
            {
                // A watch that ends or breaks makes every later wait end at once, not after its 5 s.
                arrivals.Writer.TryComplete();
                ready.TrySetException(new InvalidOperationException($"{name}: the watch ended before it was attached."));
            }
        }
        var watcher = WatchAsync();
        try
        {
            await ready.Task.WaitAsync(s_perWrite, cancellationToken);
            var latencies = new List<long>(writes);
            var errors = new SortedDictionary<int, long>();
            var started = Stopwatch.GetTimestamp();
            for (var i = 0; i < warmupWrites + writes && Stopwatch.GetElapsedTime(started) < s_total; i++)
            {
                var measured = i >= warmupWrites;
                var token = $"watch-{tag}-{i}";
                var began = Stopwatch.GetTimestamp();
                int status;
                try
                {
                    status = await write(token, cancellationToken);
                }
                catch (HttpRequestException)
                {
                    status = ClosedLoop.ConnectionError;
                }
                catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    status = ClosedLoop.Timeout;
                }
                if (status is < 200 or >= 300)
                {
                    Count(errors, status, measured);
                    continue;
                }
                var arrived = await ArrivalAsync(arrivals.Reader, token, began, cancellationToken);
                if (arrived is null)
                {
                    Count(errors, ClosedLoop.NoFrame, measured);
                }
                else if (measured)
                {
                    latencies.Add(arrived.Value - began);
                }
            }
            var sorted = latencies.ToArray();
            Array.Sort(sorted);
            return new Measurement(name, sorted, errors, Stopwatch.GetElapsedTime(started), default);
        }
        finally
        {
            await stop.CancelAsync();
            await watcher.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>The session-mesh watch: <c>GET /events</c> as SSE from now on; a join's <c>session.joined</c> event carries its agent id.</summary>
    public static Watch MeshEvents(HttpClient http) => async (arrivals, ready, cancellationToken) =>
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, MeshApi.EventsPath);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            response.EnsureSuccessStatusCode();
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            await foreach (var frame in SseParser.Create(body).EnumerateAsync(cancellationToken))
            {
                var arrived = Stopwatch.GetTimestamp();
                // The first frame (a ping when there is nothing to send) says the watch is attached.
                ready.TrySetResult();
                if (frame.EventType == "session.joined")
                {
                    using var json = JsonDocument.Parse(frame.Data);
                    if (json.RootElement.TryGetProperty("agent_id", out var agentId) && agentId.GetString() is { } token)
                    {
                        arrivals.TryWrite((token, arrived));
                    }
                }
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            ready.TrySetException(ex);
        }
    };

    /// <summary>The etcd watch: <c>POST /v3/watch</c> on the bench's key prefix; the gateway streams one JSON object per line.</summary>
    public static Watch EtcdKeys(HttpClient http) => async (arrivals, ready, cancellationToken) =>
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, EtcdApi.WatchPath)
            {
                Content = new StringContent(EtcdApi.WatchBody(), Encoding.UTF8, "application/json"),
            };
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            response.EnsureSuccessStatusCode();
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            using var reader = new StreamReader(body, Encoding.UTF8);
            while (await reader.ReadLineAsync(cancellationToken) is { } line)
            {
                var arrived = Stopwatch.GetTimestamp();
                if (line.Length == 0)
                {
                    continue;
                }
                if (EtcdApi.IsWatchCreated(line))
                {
                    ready.TrySetResult();
                    continue;
                }
                foreach (var token in EtcdApi.WatchedTokens(line))
                {
                    arrivals.TryWrite((token, arrived));
                }
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            ready.TrySetException(ex);
        }
    };

    /// <summary>When the watcher read <paramref name="token"/>, or null when it did not within the bound; older tokens are skipped.</summary>
    private static async Task<long?> ArrivalAsync(ChannelReader<(string Token, long Arrived)> arrivals, string token, long began, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var left = s_perWrite - Stopwatch.GetElapsedTime(began);
        timeout.CancelAfter(left > TimeSpan.Zero ? left : TimeSpan.Zero);
        try
        {
            while (true)
            {
                var (seen, arrived) = await arrivals.ReadAsync(timeout.Token);
                if (seen == token)
                {
                    return arrived;
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
        catch (ChannelClosedException)
        {
            return null;
        }
    }

    private static void Count(SortedDictionary<int, long> errors, int status, bool measured)
    {
        if (measured)
        {
            errors[status] = errors.GetValueOrDefault(status) + 1;
        }
    }
}
