using System.Globalization;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using SessionMesh.Client.Http;
using SessionMesh.Contracts;

namespace SessionMesh.Client;

public sealed partial class SessionMeshClient
{
    /// <summary>
    /// <c>GET /agents/{agent_id}/commands</c> as Server-Sent Events, over one connection: pending commands first,
    /// then new ones as they are queued. Ends when the server closes the stream; a dropped connection
    /// throws (<see cref="IOException"/> or <see cref="HttpRequestException"/>). Pass the last
    /// <see cref="CommandView.Sequence"/> seen as <paramref name="lastEventId"/> to resume after it.
    /// <see cref="MeshAgent"/> reconnects and resumes by itself.
    /// </summary>
    public async IAsyncEnumerable<CommandView> StreamCommandsAsync(
        string agentId, long? lastEventId = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var frame in StreamCommandFramesAsync(agentId, lastEventId, cancellationToken))
        {
            if (frame.Command is { } command)
            {
                yield return command;
            }
            else if (frame.End is not null)
            {
                yield break;
            }
        }
    }

    /// <summary>The command stream's frames: <c>command</c>, and the <c>end</c> frame sent when the session ends or the key stops being valid.</summary>
    internal async IAsyncEnumerable<CommandFrame> StreamCommandFramesAsync(
        string agentId, long? lastEventId, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var call = new MeshCallOptions { LastEventId = lastEventId?.ToString(CultureInfo.InvariantCulture) };
        using var response = await _transport.OpenStreamAsync($"agents/{MeshQuery.Segment(agentId)}/commands", call, cancellationToken);
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        var commandInfo = MeshTransport.ReadInfo(MeshJsonContext.Default.CommandView);
        var endInfo = MeshTransport.ReadInfo(MeshJsonContext.Default.StreamEnd);
        var parser = SseParser.Create(stream, (eventType, data) => eventType switch
        {
            // "message" is the SSE default type: a server that omits "event:" still delivers commands.
            "command" or "message" => new CommandFrame(JsonSerializer.Deserialize(data, commandInfo), null),
            "end" => new CommandFrame(null, JsonSerializer.Deserialize(data, endInfo)),
            _ => null, // "lease" and keep-alives carry nothing the caller needs
        });
        await foreach (var item in parser.EnumerateAsync(cancellationToken))
        {
            if (item.Data is { } frame)
            {
                yield return frame;
            }
        }
    }

    /// <summary>
    /// <c>GET /events?since=</c>: every state change, in revision order, as it happens. A dropped stream is
    /// reopened after the last revision seen, so no event is lost or repeated; the enumeration ends only by
    /// cancellation or an error. A <paramref name="since"/> older than the retained history throws a
    /// <see cref="SessionMeshException"/> with code <c>revision_compacted</c> (re-list, then watch from now).
    /// </summary>
    public async IAsyncEnumerable<EventView> WatchEventsAsync(long? since = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var last = since;
        var drops = 0;
        while (true)
        {
            var path = new MeshQuery("events").Add("since", last).ToString();
            var call = new MeshCallOptions { LastEventId = last?.ToString(CultureInfo.InvariantCulture) };
            using var response = await _transport.OpenStreamAsync(path, call, cancellationToken);
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            await using var events = ReadEventsAsync(stream, cancellationToken).GetAsyncEnumerator(cancellationToken);
            while (true)
            {
                bool hasNext;
                try
                {
                    hasNext = await events.MoveNextAsync();
                }
                catch (Exception ex) when (IsStreamDrop(ex, cancellationToken))
                {
                    break;
                }
                if (!hasNext)
                {
                    break;
                }
                var item = events.Current;
                if (last is { } seen && item.Revision <= seen)
                {
                    continue;
                }
                last = item.Revision;
                drops = 0;
                yield return item;
            }
            // The stream ended or dropped: reopen after a short, growing pause so a flapping server is not hammered.
            await Task.Delay(ReconnectDelay(drops++), TimeProvider, cancellationToken);
        }
    }

    internal static bool IsStreamDrop(Exception exception, CancellationToken cancellationToken) =>
        !cancellationToken.IsCancellationRequested && exception is IOException or HttpRequestException or OperationCanceledException;

    internal TimeSpan ReconnectDelay(int drops)
    {
        if (drops == 0)
        {
            return TimeSpan.Zero;
        }
        var exponential = Options.RetryBaseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(drops - 1, 10));
        var capped = Math.Min(exponential, Options.MaxRetryDelay.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(capped * (0.5 + (Random.Shared.NextDouble() / 2)));
    }

    private static async IAsyncEnumerable<EventView> ReadEventsAsync(Stream stream, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var info = MeshTransport.ReadInfo(MeshJsonContext.Default.EventView);
        // Every frame's type is the event's type, except keep-alive pings and the end frame sent when the key stops
        // being valid (the server then closes the stream; reopening it meets the 401).
        var parser = SseParser.Create(stream, (eventType, data) => eventType is "ping" or "end" ? null : JsonSerializer.Deserialize(data, info));
        await foreach (var item in parser.EnumerateAsync(cancellationToken))
        {
            if (item.Data is { } value)
            {
                yield return value;
            }
        }
    }
}

/// <summary>One frame of a command stream: a command, or the end of the session.</summary>
internal sealed record CommandFrame(CommandView? Command, StreamEnd? End);
