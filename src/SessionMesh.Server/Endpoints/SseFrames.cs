using System.Buffers;
using System.Buffers.Text;
using System.Text;
using System.Text.Json.Serialization.Metadata;
using SessionMesh.Contracts;
using SessionMesh.Mesh;

namespace SessionMesh.Server.Endpoints;

/// <summary>
/// Core's stream frames in the SSE wire format: <c>event:</c> the frame's kind, <c>data:</c> its JSON, <c>id:</c> the
/// cursor, then a blank line. Written straight into the response's buffer: the JSON goes through
/// <see cref="ThreadJson"/>, never through a string, so a frame allocates nothing of its own.
/// </summary>
internal static class SseFrames
{
    /// <summary>Writes one frame of an agent's command stream.</summary>
    public static void Write(IBufferWriter<byte> output, CommandStreamFrame frame)
    {
        switch (frame)
        {
            case CommandStreamFrame.Command c:
                Write(output, "command"u8, c.View, MeshJsonContext.Default.CommandView, c.View.Sequence);
                break;
            case CommandStreamFrame.Lease l:
                Write(output, "lease"u8, l.View, MeshJsonContext.Default.HeartbeatResponse, null);
                break;
            case CommandStreamFrame.End e:
                Write(output, "end"u8, e.View, MeshJsonContext.Default.StreamEnd, null);
                break;
            default:
                throw new InvalidOperationException($"Unknown frame {frame.GetType().Name}.");
        }
    }

    /// <summary>Writes one frame of an event watch; an event's SSE type is its own type (<c>session.joined</c>).</summary>
    public static void Write(IBufferWriter<byte> output, EventStreamFrame frame)
    {
        switch (frame)
        {
            case EventStreamFrame.Event e:
                Span<byte> type = stackalloc byte[Encoding.UTF8.GetMaxByteCount(e.View.Type.Length)];
                Write(output, type[..Encoding.UTF8.GetBytes(e.View.Type, type)], e.View, MeshJsonContext.Default.EventView, e.View.Revision);
                break;
            case EventStreamFrame.Ping:
                output.Write("event: ping\ndata: {}\n\n"u8);
                break;
            case EventStreamFrame.End e:
                Write(output, "end"u8, e.View, MeshJsonContext.Default.WatchEnd, null);
                break;
            default:
                throw new InvalidOperationException($"Unknown frame {frame.GetType().Name}.");
        }
    }

    /// <summary>Writes one line of a followed agent's output: <c>event: line</c>, its sequence as the <c>id</c>.</summary>
    public static void Write(IBufferWriter<byte> output, LogLineView line) =>
        Write(output, "line"u8, line, MeshJsonContext.Default.LogLineView, line.Sequence);

    private static void Write<T>(IBufferWriter<byte> output, ReadOnlySpan<byte> eventType, T value, JsonTypeInfo<T> typeInfo, long? id)
    {
        output.Write("event: "u8);
        output.Write(eventType);
        output.Write("\n"u8);
        WriteData(output, ThreadJson.Serialize(value, typeInfo).Span);
        if (id is { } cursor)
        {
            output.Write("id: "u8);
            var span = output.GetSpan(20);
            Utf8Formatter.TryFormat(cursor, span, out var written);
            output.Advance(written);
            output.Write("\n"u8);
        }
        output.Write("\n"u8);
    }

    /// <summary>
    /// One <c>data:</c> line per line of the JSON: the serialiser writes none, but stored JSON embedded as written may
    /// carry line breaks, and a bare one inside a data line would end the frame early.
    /// </summary>
    private static void WriteData(IBufferWriter<byte> output, ReadOnlySpan<byte> json)
    {
        while (true)
        {
            output.Write("data: "u8);
            var end = json.IndexOfAny((byte)'\r', (byte)'\n');
            if (end < 0)
            {
                output.Write(json);
                output.Write("\n"u8);
                return;
            }
            output.Write(json[..end]);
            output.Write("\n"u8);
            json = json[(json[end] == '\r' && end + 1 < json.Length && json[end + 1] == '\n' ? end + 2 : end + 1)..];
        }
    }
}
