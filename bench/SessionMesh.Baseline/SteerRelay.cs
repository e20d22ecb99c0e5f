using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Text.Json;

namespace SessionMesh.Baseline;

/// <summary>
/// The floor under the scale run's steer row: session-mesh's two steer-path calls with nothing of session-mesh in them.
/// <c>GET /api/session-mesh/agents/{agentId}/commands</c> holds an SSE stream open (a <c>lease</c> frame first, as the
/// mesh sends); <c>POST /api/session-mesh/steer</c> takes the steer's JSON body, finds its <c>agent_id</c>, writes the
/// body as a <c>command</c> frame to that agent's stream, flushes it, and only then answers, as the mesh answers a
/// steer once it is pushed. No keys, no store, no fsync, no queue: whatever latency is left is the machine's (the HTTP
/// stack, the sockets, the processes' wake-ups), so the bench can set the mesh's steer latency against it in one run.
/// </summary>
internal static class SteerRelay
{
    private const string StreamPath = "/api/session-mesh/agents/{agentId}/commands";
    private const string SteerPath = "/api/session-mesh/steer";

    /// <summary>Asked by the bench once the streams are open, before the steers start.</summary>
    private const string SettlePath = "/settle";

    /// <summary>The few of the .NET runtime's series the bench reads, under the names the server's <c>/metrics</c> gives them.</summary>
    private const string MetricsPath = "/metrics";

    private static readonly byte[] s_leaseFrame = "event: lease\ndata: {}\n\n"u8.ToArray();
    private static readonly byte[] s_commandHead = "event: command\ndata: "u8.ToArray();
    private static readonly byte[] s_answer = """{"delivered":true}"""u8.ToArray();

    private static readonly ConcurrentDictionary<string, Listener> s_listeners = new(StringComparer.Ordinal);

    public static void Map(WebApplication app)
    {
        app.MapGet(StreamPath, ListenAsync);
        app.MapPost(SteerPath, SteerAsync);
        app.MapPost(SettlePath, Settle);
        app.MapGet(MetricsPath, RuntimeMetrics);
    }

    private static string RuntimeMetrics()
    {
        // Each series counts the collections of its generation; GC.CollectionCount(n) counts those of n and above.
        var (gen0, gen1, gen2) = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
        return string.Create(System.Globalization.CultureInfo.InvariantCulture, $$"""
            dotnet_gc_collections_total{gc_heap_generation="gen0"} {{gen0 - gen1}}
            dotnet_gc_collections_total{gc_heap_generation="gen1"} {{gen1 - gen2}}
            dotnet_gc_collections_total{gc_heap_generation="gen2"} {{gen2}}
            dotnet_gc_pause_time_seconds_total {{GC.GetTotalPauseDuration().TotalSeconds}}
            dotnet_gc_heap_total_allocated_bytes_total {{GC.GetTotalAllocatedBytes()}}
            dotnet_jit_compilation_time_seconds_total {{System.Runtime.JitInfo.GetCompilationTime().TotalSeconds}}

            """);
    }

    /// <summary>
    /// One full, compacting collection, so that the one-time promotion of the open streams' objects (10,000
    /// connections, pipes and state machines) happens here and not in the measured window: the floor is meant to show
    /// the machine, not this process's first gen2 collection.
    /// </summary>
    private static void Settle()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
    }

    private static async Task ListenAsync(string agentId, HttpContext context)
    {
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        var listener = new Listener(response.BodyWriter);
        s_listeners[agentId] = listener;
        try
        {
            await listener.WriteAsync(s_leaseFrame, ReadOnlySequence<byte>.Empty, context.RequestAborted);
            await Task.Delay(Timeout.Infinite, context.RequestAborted);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
        }
        finally
        {
            s_listeners.TryRemove(new KeyValuePair<string, Listener>(agentId, listener));
        }
    }

    private static async Task SteerAsync(HttpContext context)
    {
        var reader = context.Request.BodyReader;
        var read = await reader.ReadAsync(context.RequestAborted);
        while (!read.IsCompleted)
        {
            reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
            read = await reader.ReadAsync(context.RequestAborted);
        }
        var body = read.Buffer;
        try
        {
            if (AgentId(body) is not { } agentId)
            {
                context.Response.StatusCode = StatusCodes.Status400BadRequest;
                return;
            }
            if (!s_listeners.TryGetValue(agentId, out var listener))
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }
            await listener.WriteAsync(s_commandHead, body, context.RequestAborted);
        }
        finally
        {
            reader.AdvanceTo(body.End);
        }
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(s_answer, context.RequestAborted);
    }

    /// <summary>The top-level <c>agent_id</c> of a steer's JSON body, or null when it has none.</summary>
    private static string? AgentId(ReadOnlySequence<byte> body)
    {
        var json = new Utf8JsonReader(body);
        try
        {
            while (json.Read())
            {
                if (json.TokenType == JsonTokenType.PropertyName && json.CurrentDepth == 1 && json.ValueTextEquals("agent_id"u8))
                {
                    return json.Read() && json.TokenType == JsonTokenType.String ? json.GetString() : null;
                }
            }
        }
        catch (JsonException)
        {
        }
        return null;
    }

    /// <summary>One open stream: frames from concurrent steers are written to it one at a time.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "A SemaphoreSlim whose wait handle is never asked for holds nothing to dispose; a steer may still hold the gate when its stream ends.")]
    private sealed class Listener(PipeWriter output)
    {
        private readonly SemaphoreSlim _gate = new(1, 1);

        /// <summary>Writes <paramref name="head"/>, then <paramref name="data"/> (one line of JSON) and the frame's end if there is data, and flushes.</summary>
        public async Task WriteAsync(byte[] head, ReadOnlySequence<byte> data, CancellationToken cancellationToken)
        {
            await _gate.WaitAsync(cancellationToken);
            try
            {
                output.Write(head);
                foreach (var segment in data)
                {
                    output.Write(segment.Span);
                }
                if (!data.IsEmpty)
                {
                    output.Write("\n\n"u8);
                }
                await output.FlushAsync(cancellationToken);
            }
            finally
            {
                _gate.Release();
            }
        }
    }
}
