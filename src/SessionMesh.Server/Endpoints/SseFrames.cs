using System.Globalization;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using SessionMesh.Contracts;
using SessionMesh.Mesh;

namespace SessionMesh.Server.Endpoints;

/// <summary>Core's stream frames as SSE items: <c>event:</c> the frame's kind, one <c>data:</c> line of JSON, and <c>id:</c> the cursor.</summary>
internal static class SseFrames
{
    public static async IAsyncEnumerable<SseItem<string>> Of(IAsyncEnumerable<CommandStreamFrame> frames, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var frame in frames.WithCancellation(cancellationToken))
        {
            yield return frame switch
            {
                CommandStreamFrame.Command c => new SseItem<string>(JsonSerializer.Serialize(c.View, MeshJsonContext.Default.CommandView), "command")
                {
                    EventId = c.View.Sequence.ToString(CultureInfo.InvariantCulture),
                },
                CommandStreamFrame.Lease l => new SseItem<string>(JsonSerializer.Serialize(l.View, MeshJsonContext.Default.HeartbeatResponse), "lease"),
                CommandStreamFrame.End e => new SseItem<string>(JsonSerializer.Serialize(e.View, MeshJsonContext.Default.StreamEnd), "end"),
                _ => throw new InvalidOperationException($"Unknown frame {frame.GetType().Name}."),
            };
        }
    }

    public static async IAsyncEnumerable<SseItem<string>> Of(IAsyncEnumerable<EventStreamFrame> frames, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var frame in frames.WithCancellation(cancellationToken))
        {
            yield return frame switch
            {
                EventStreamFrame.Event e => new SseItem<string>(JsonSerializer.Serialize(e.View, MeshJsonContext.Default.EventView), e.View.Type)
                {
                    EventId = e.View.Revision.ToString(CultureInfo.InvariantCulture),
                },
                EventStreamFrame.Ping => new SseItem<string>("{}", "ping"),
                EventStreamFrame.End e => new SseItem<string>(JsonSerializer.Serialize(e.View, MeshJsonContext.Default.WatchEnd), "end"),
                _ => throw new InvalidOperationException($"Unknown frame {frame.GetType().Name}."),
            };
        }
    }
}
