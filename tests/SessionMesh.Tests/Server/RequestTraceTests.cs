using System.Collections.Concurrent;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using SessionMesh.Server.Hosting;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Server;

/// <summary>
/// A problem's <c>trace_id</c> without the hosting layer's per-request Activity (its request logs are off unless
/// configured): W3C-shaped, continuing the caller's <c>traceparent</c>, one per request.
/// </summary>
public sealed class RequestTraceTests
{
    private const string Api = "api/session-mesh";
    private const string CallerTrace = "0af7651916cd43dd8448eb211c80319c";
    private const string CallerParent = $"00-{CallerTrace}-b7ad6b7169203331-01";
    private static readonly Regex s_w3c = new("^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$");

    [Fact]
    public async Task A_problem_continues_the_callers_trace_with_a_span_of_its_own()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();
        client.DefaultRequestHeaders.Add("traceparent", CallerParent);

        var traceId = await ProblemTraceIdAsync(client);

        Assert.Matches(s_w3c, traceId);
        Assert.StartsWith($"00-{CallerTrace}-", traceId, StringComparison.Ordinal);
        Assert.EndsWith("-01", traceId, StringComparison.Ordinal);
        Assert.NotEqual(CallerParent, traceId);
    }

    [Fact]
    public async Task Without_a_traceparent_each_problem_gets_a_trace_of_its_own()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();

        var first = await ProblemTraceIdAsync(client);
        var second = await ProblemTraceIdAsync(client);

        Assert.Matches(s_w3c, first);
        Assert.Matches(s_w3c, second);
        Assert.NotEqual(first[3..35], second[3..35]);
    }

    [Fact]
    public void A_request_keeps_the_trace_id_it_was_given_and_ignores_a_broken_traceparent()
    {
        var http = new DefaultHttpContext();
        http.Request.Headers.TraceParent = "00-not-a-trace-01";

        var first = RequestTrace.IdOf(http);

        Assert.Matches(s_w3c, first);
        Assert.DoesNotContain("not-a-trace", first, StringComparison.Ordinal);
        Assert.Equal(first, RequestTrace.IdOf(http));
    }

    [Fact]
    public async Task The_hosting_layers_request_logs_are_off_unless_configuration_names_them()
    {
        var quiet = new CapturedLogs();
        await using (var server = await MeshTestServer.StartAsync(configure: builder => builder.Logging.AddProvider(quiet)))
        {
            using var client = server.CreateClient();
            await ProblemTraceIdAsync(client);
        }
        var loud = new CapturedLogs();
        var settings = new Dictionary<string, string> { [$"Logging:LogLevel:{MeshServiceRegistration.HostingRequestLogs}"] = "Information" };
        await using (var server = await MeshTestServer.StartAsync(settings: settings, configure: builder => builder.Logging.AddProvider(loud)))
        {
            using var client = server.CreateClient();
            client.DefaultRequestHeaders.Add("traceparent", CallerParent);
            // With them on, the hosting layer's Activity runs again, and the problem takes its trace id.
            Assert.StartsWith($"00-{CallerTrace}-", await ProblemTraceIdAsync(client), StringComparison.Ordinal);
        }

        // No entry and no per-request scope: the scope and the Activity come and go together.
        Assert.DoesNotContain(quiet.Entries, entry => entry.Category == MeshServiceRegistration.HostingRequestLogs);
        Assert.Contains(loud.Entries, entry => entry.Category == MeshServiceRegistration.HostingRequestLogs && entry.Message.StartsWith("scope: ", StringComparison.Ordinal));
        Assert.Contains(loud.Entries, entry => entry.Category == MeshServiceRegistration.HostingRequestLogs && entry.Message.Contains("/api/session-mesh/steer", StringComparison.Ordinal));
    }

    private static async Task<string> ProblemTraceIdAsync(HttpClient client) =>
        (await client.PostReplyAsync($"{Api}/steer", """{"agent_id": "ghost", "direction": "east"}"""))
            .ExpectProblem(HttpStatusCode.NotFound, "agent_not_found").Json.GetProperty("trace_id").GetString()!;

    /// <summary>Every log entry and scope of the server it is added to, with its category.</summary>
    private sealed class CapturedLogs : ILoggerProvider
    {
        public ConcurrentQueue<(string Category, string Message)> Entries { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, Entries);

        public void Dispose()
        {
        }

        private sealed class Logger(string category, ConcurrentQueue<(string Category, string Message)> entries) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull
            {
                entries.Enqueue((category, "scope: " + state));
                return null;
            }

            public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                entries.Enqueue((category, formatter(state, exception)));
        }
    }
}
