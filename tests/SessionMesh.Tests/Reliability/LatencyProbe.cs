using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Reliability;

/// <summary>
/// An ordinary client timing its calls while something floods the server: a read, a heartbeat, a join, and a steer
/// to an agent whose stream is open until the command arrives on it. Every call must succeed; the latencies are the
/// suite's figures.
/// </summary>
public sealed class LatencyProbe : IAsyncDisposable
{
    private const string Api = "api/session-mesh/";

    private readonly HttpClient _http;
    private readonly string _sessionId;
    private readonly SseReader _stream;
    private readonly ConcurrentDictionary<string, List<double>> _samples = new();
    private int _joins;

    private LatencyProbe(HttpClient http, string sessionId, SseReader stream)
    {
        _http = http;
        _sessionId = sessionId;
        _stream = stream;
    }

    /// <summary>Joins the probe's agent and opens its command stream.</summary>
    public static async Task<LatencyProbe> StartAsync(HttpClient http, string agentId)
    {
        var sessionId = (await http.PostReplyAsync($"{Api}sessions", $$"""{"agent_id": "{{agentId}}", "ttl": 600}""")).Expect(HttpStatusCode.Created).Json.GetProperty("session_id").GetString()!;
        var stream = await SseReader.OpenAsync(http, $"{Api}agents/{agentId}/commands");
        return new LatencyProbe(http, sessionId, stream) { AgentId = agentId };
    }

    public required string AgentId { get; init; }

    /// <summary>One round of the four calls.</summary>
    public async Task RoundAsync()
    {
        await TimeAsync("read", async () => (await _http.GetReplyAsync($"{Api}agents/{AgentId}")).Expect(HttpStatusCode.OK));
        await TimeAsync("heartbeat", async () => (await _http.PostReplyAsync($"{Api}sessions/{_sessionId}/heartbeat", "{}")).Expect(HttpStatusCode.OK));
        var joiner = $"{AgentId}-j{Interlocked.Increment(ref _joins)}";
        await TimeAsync("join", async () => (await _http.PostReplyAsync($"{Api}sessions", $$"""{"agent_id": "{{joiner}}"}""")).Expect(HttpStatusCode.Created));
        await TimeAsync("steer to delivery", async () =>
        {
            var direction = $"probe-{Guid.NewGuid():N}";
            (await _http.PostReplyAsync($"{Api}steer", $$"""{"agent_id": "{{AgentId}}", "direction": "{{direction}}"}""")).Expect(HttpStatusCode.OK);
            var frame = await _stream.NextOfTypeAsync("command");
            Assert.Equal(direction, frame.Json.GetProperty("direction").GetString());
        });
    }

    /// <summary>How many calls of each kind, and their p50, p99 and max in milliseconds.</summary>
    public string Figures() => string.Join("; ", _samples.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s =>
    {
        var sorted = s.Value.Order().ToList();
        return $"{s.Key} n={sorted.Count} p50={Percentile(sorted, 0.50):F1} ms p99={Percentile(sorted, 0.99):F1} ms max={sorted[^1]:F1} ms";
    }));

    /// <summary>The worst p99 over the kinds of call.</summary>
    public TimeSpan WorstP99 => TimeSpan.FromMilliseconds(_samples.Values.Max(s => Percentile(s.Order().ToList(), 0.99)));

    public int Calls => _samples.Values.Sum(s => s.Count);

    public ValueTask DisposeAsync() => _stream.DisposeAsync();

    private async Task TimeAsync(string kind, Func<Task> call)
    {
        var clock = Stopwatch.StartNew();
        await call();
        _samples.GetOrAdd(kind, _ => []).Add(clock.Elapsed.TotalMilliseconds);
    }

    private static double Percentile(List<double> sorted, double p) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
}
