using System.Buffers;
using System.Globalization;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using SessionMesh.Contracts;
using SessionMesh.Mesh;

namespace SessionMesh.Server.Endpoints;

/// <summary>
/// Core's stream frames as SSE items: <c>event:</c> the frame's kind, one <c>data:</c> line of JSON, and <c>id:</c> the
/// cursor. The JSON is written straight into the response's buffer, never through a string (the <c>Format</c> methods).
/// </summary>
internal static class SseFrames
{
    private static readonly JsonWriterOptions s_writerOptions = new()
    {
        Encoder = MeshJsonContext.Default.Options.Encoder,
        MaxDepth = MeshJsonContext.Default.Options.MaxDepth,
        SkipValidation = true,
    };

    // One writer per thread, reset onto each frame's buffer: formatting a frame allocates no writer.
    [ThreadStatic]
    private static Utf8JsonWriter? s_threadWriter;

    public static async IAsyncEnumerable<SseItem<CommandStreamFrame>> Of(IAsyncEnumerable<CommandStreamFrame> frames, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var frame in frames.WithCancellation(cancellationToken))
        {
            yield return frame switch
            {
                CommandStreamFrame.Command c => new SseItem<CommandStreamFrame>(c, "command") { EventId = c.View.Sequence.ToString(CultureInfo.InvariantCulture) },
                CommandStreamFrame.Lease => new SseItem<CommandStreamFrame>(frame, "lease"),
                CommandStreamFrame.End => new SseItem<CommandStreamFrame>(frame, "end"),
                _ => throw new InvalidOperationException($"Unknown frame {frame.GetType().Name}."),
            };
        }
    }

    public static async IAsyncEnumerable<SseItem<EventStreamFrame>> Of(IAsyncEnumerable<EventStreamFrame> frames, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var frame in frames.WithCancellation(cancellationToken))
        {
            yield return frame switch
            {
                EventStreamFrame.Event e => new SseItem<EventStreamFrame>(e, e.View.Type) { EventId = e.View.Revision.ToString(CultureInfo.InvariantCulture) },
                EventStreamFrame.Ping => new SseItem<EventStreamFrame>(frame, "ping"),
                EventStreamFrame.End => new SseItem<EventStreamFrame>(frame, "end"),
                _ => throw new InvalidOperationException($"Unknown frame {frame.GetType().Name}."),
            };
        }
    }

    /// <summary>Writes a command stream frame's JSON into the SSE formatter's buffer.</summary>
    public static void Format(SseItem<CommandStreamFrame> item, IBufferWriter<byte> buffer)
    {
        switch (item.Data)
        {
            case CommandStreamFrame.Command c:
                Write(buffer, c.View, MeshJsonContext.Default.CommandView);
                break;
            case CommandStreamFrame.Lease l:
                Write(buffer, l.View, MeshJsonContext.Default.HeartbeatResponse);
                break;
            case CommandStreamFrame.End e:
                Write(buffer, e.View, MeshJsonContext.Default.StreamEnd);
                break;
        }
    }

    /// <summary>Writes an event stream frame's JSON into the SSE formatter's buffer.</summary>
    public static void Format(SseItem<EventStreamFrame> item, IBufferWriter<byte> buffer)
    {
        switch (item.Data)
        {
            case EventStreamFrame.Event e:
                Write(buffer, e.View, MeshJsonContext.Default.EventView);
                break;
            case EventStreamFrame.Ping:
                buffer.Write("{}"u8);
                break;
            case EventStreamFrame.End e:
                Write(buffer, e.View, MeshJsonContext.Default.WatchEnd);
                break;
        }
    }

    private static void Write<T>(IBufferWriter<byte> buffer, T value, JsonTypeInfo<T> typeInfo)
    {
        var writer = s_threadWriter ??= new Utf8JsonWriter(buffer, s_writerOptions);
        writer.Reset(buffer);
        try
        {
            JsonSerializer.Serialize(writer, value, typeInfo);
        }
        finally
        {
            // Drops the reference to the buffer, which belongs to the response.
            writer.Reset(Stream.Null);
        }
    }
}
