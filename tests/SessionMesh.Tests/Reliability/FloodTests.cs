using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Reliability;

/// <summary>
/// Floods of connections and of steers at a real <c>serve</c> process: other clients keep being answered, correctly
/// and within a generous bound, meanwhile. The latencies are printed as figures; speed targets are the benchmark's.
/// </summary>
public sealed class FloodTests
{
    private const string Api = "api/session-mesh/";
    private const string RootKey = "flood-root-key-0123456789abcdef";
    private const int IdleTarget = 3000;
    private const int WatcherTarget = 2000;

    /// <summary>Spread over keys, so a per-key cap on open streams is not what this test meets.</summary>
    private const int WatchersPerKey = 8;

    /// <summary>Generous on purpose: two shared cores running the rest of the suite at once.</summary>
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task Thousands_of_idle_connections_and_event_watchers_leave_other_clients_answered_in_bounded_time()
    {
        var (idleCount, watcherCount, limit) = Sizes();
        using var temp = new TempDirectory();
        await using var serve = StartServe(temp.Path);
        var address = new Uri(await serve.AddressAsync());
        using var http = ClientFor(address);
        var clock = Stopwatch.StartNew();
        var connections = new ConcurrentBag<RawConnection>();
        var idles = new ConcurrentBag<RawConnection>();
        try
        {
            await ForEachAsync(idleCount, async (_, ct) =>
            {
                // Idle after one request, as a keep-alive client leaves it.
                var idle = await RawConnection.OpenAsync(address, ct);
                connections.Add(idle);
                idles.Add(idle);
                await idle.SendAsync("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n", ct);
                Assert.True(await idle.ReadUntilAsync("HTTP/1.1 200", ct), idle.Received);
            });
            var keys = new ConcurrentBag<string>();
            await ForEachAsync((watcherCount + WatchersPerKey - 1) / WatchersPerKey, async (_, _) =>
                keys.Add((await http.PostReplyAsync($"{Api}keys", """{"scopes": ["read"], "cluster": "flood"}""")).Expect(HttpStatusCode.Created).Json.GetProperty("session_key").GetString()!));
            var keyList = keys.ToList();
            var watchers = new ConcurrentBag<RawConnection>();
            await ForEachAsync(watcherCount, async (i, ct) =>
            {
                var watcher = await RawConnection.OpenAsync(address, ct);
                connections.Add(watcher);
                watchers.Add(watcher);
                await watcher.SendAsync($"GET /{Api}events HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\nAuthorization: Bearer {keyList[i % keyList.Count]}\r\n\r\n", ct);
                // A watch with nothing to send opens with a ping: the watcher is connected and registered.
                Assert.True(await watcher.ReadUntilAsync("event: ping", ct), watcher.Received);
            });
            var opened = clock.Elapsed;

            await using var probe = await LatencyProbe.StartAsync(http, "flood-probe");
            for (var round = 0; round < 50; round++)
            {
                await probe.RoundAsync();
            }

            // Every watcher is still there and fed: one join in their cluster reaches each of them.
            (await http.PostReplyAsync($"{Api}sessions", """{"agent_id": "flood-marker", "cluster": "flood"}""")).Expect(HttpStatusCode.Created);
            var fed = 0;
            var watching = watchers.ToArray();
            await ForEachAsync(watching.Length, async (i, ct) =>
            {
                var watcher = watching[i];
                Assert.True(await watcher.ReadUntilAsync("flood-marker", ct), "A watcher closed: " + watcher.Received);
                Interlocked.Increment(ref fed);
            });
            // And the idle connections are still open: each answers a second request on the same connection.
            var reused = 0;
            var idling = idles.ToArray();
            await ForEachAsync(idling.Length, async (i, ct) =>
            {
                await idling[i].SendAsync("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n", ct);
                Assert.True(await idling[i].ReadUntilAsync("HTTP/1.1 200", ct, times: 2), "An idle connection was closed: " + idling[i].Received);
                Interlocked.Increment(ref reused);
            });

            TestContext.Current.TestOutputHelper?.WriteLine(
                $"connection flood (open-file limit {limit}): {idleCount} idle connections and {watcherCount} event watchers over {keyList.Count} keys opened in {opened.TotalSeconds:F1} s; "
                + $"with them open: {probe.Figures()}; marker event reached {fed}/{watcherCount} watchers; {reused} idle connections reused");
            Assert.Equal(watcherCount, fed);
            Assert.Equal(idleCount, reused);
            Assert.True(probe.WorstP99 < s_bound, $"p99 over {s_bound}: {probe.Figures()}");
        }
        finally
        {
            foreach (var connection in connections)
            {
                await connection.DisposeAsync();
            }
        }
        Assert.Equal(0, await serve.StopAsync());
    }

    [Fact]
    public async Task A_steer_storm_at_one_agent_is_delivered_in_order_while_other_clients_are_answered_in_bounded_time()
    {
        const int Stormers = 8;
        const int SteersEach = 150;
        using var temp = new TempDirectory();
        await using var serve = StartServe(temp.Path);
        using var http = ClientFor(new Uri(await serve.AddressAsync()));
        (await http.PostReplyAsync($"{Api}sessions", """{"agent_id": "storm-target", "ttl": 600}""")).Expect(HttpStatusCode.Created);
        await using var target = await SseReader.OpenAsync(http, $"{Api}agents/storm-target/commands");
        var received = new List<(long Sequence, string Direction)>();
        var receiving = Task.Run(async () =>
        {
            while (received.Count < Stormers * SteersEach)
            {
                var command = (await target.NextOfTypeAsync("command")).Json;
                received.Add((command.GetProperty("sequence").GetInt64(), command.GetProperty("direction").GetString()!));
            }
        }, TestContext.Current.CancellationToken);

        await using var probe = await LatencyProbe.StartAsync(http, "storm-probe");
        var clock = Stopwatch.StartNew();
        var storm = Task.WhenAll(Enumerable.Range(0, Stormers).Select(s => Task.Run(async () =>
        {
            using var stormer = ClientFor(http.BaseAddress!);
            for (var i = 0; i < SteersEach; i++)
            {
                (await stormer.PostReplyAsync($"{Api}steer", $$"""{"agent_id": "storm-target", "direction": "storm-{{s}}-{{i}}"}""")).Expect(HttpStatusCode.OK);
            }
        }, TestContext.Current.CancellationToken)));
        while (!storm.IsCompleted)
        {
            await probe.RoundAsync();
        }
        await storm.WaitAsync(TestContext.Current.CancellationToken);
        var stormTime = clock.Elapsed;
        await receiving.WaitAsync(TestTimeouts.Request, TestContext.Current.CancellationToken);

        TestContext.Current.TestOutputHelper?.WriteLine(
            $"steer storm: {Stormers * SteersEach} steers from {Stormers} clients at one agent in {stormTime.TotalSeconds:F1} s "
            + $"({Stormers * SteersEach / stormTime.TotalSeconds:F0}/s), all delivered on its stream; meanwhile: {probe.Figures()}");
        Assert.Equal(Stormers * SteersEach, received.Select(r => r.Direction).Distinct().Count());
        Assert.Equal(received.Select(r => r.Sequence).Order(), received.Select(r => r.Sequence));
        for (var s = 0; s < Stormers; s++)
        {
            // Each stormer's steers arrive in the order it sent them.
            var mine = received.Where(r => r.Direction.StartsWith($"storm-{s}-", StringComparison.Ordinal)).Select(r => int.Parse(r.Direction.Split('-')[2], System.Globalization.CultureInfo.InvariantCulture)).ToList();
            Assert.Equal(Enumerable.Range(0, SteersEach), mine);
        }
        Assert.True(probe.Calls > 0);
        Assert.True(probe.WorstP99 < s_bound, $"p99 over {s_bound}: {probe.Figures()}");
        Assert.Equal(0, await serve.StopAsync());
    }

    /// <summary>
    /// How many connections to hold: the targets, or fewer when this process's open-file limit would not hold them
    /// (each is one descriptor here and one in the server; the .NET runtime raises its soft limit to the hard one).
    /// Leaves room for the rest of the suite, which runs in the same process at the same time.
    /// </summary>
    private static (int Idle, int Watchers, long Limit) Sizes()
    {
        var line = File.ReadLines("/proc/self/limits").First(l => l.StartsWith("Max open files", StringComparison.Ordinal));
        var limit = long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3], System.Globalization.CultureInfo.InvariantCulture);
        var budget = Math.Max(200, limit - 4000);
        var total = (int)Math.Min(IdleTarget + WatcherTarget, budget);
        var idle = total * IdleTarget / (IdleTarget + WatcherTarget);
        return (idle, total - idle, limit);
    }

    private static ServeProcess StartServe(string dir) => ServeProcess.Start(dir,
        ["--listen", "http://127.0.0.1:0", "--data-dir", "data", "--Server:RateLimitPerSecond=1000000", "--Server:RateLimitBurst=1000000"],
        new Dictionary<string, string> { ["SESSION_MESH_ROOT_KEY"] = RootKey });

    private static HttpClient ClientFor(Uri address)
    {
        var client = new HttpClient { BaseAddress = new Uri(address.ToString().TrimEnd('/') + "/"), Timeout = TestTimeouts.Request };
        client.DefaultRequestHeaders.Authorization = new("Bearer", RootKey);
        return client;
    }

    /// <summary>Runs <paramref name="body"/> for 0..count-1, 32 at a time, failing instead of hanging after the request timeout each.</summary>
    private static Task ForEachAsync(int count, Func<int, CancellationToken, Task> body) =>
        Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = TestContext.Current.CancellationToken }, async (i, ct) =>
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TestTimeouts.Request);
            await body(i, timeout.Token);
        });
}
