using System.Text;
using System.Text.Json;

namespace SessionMesh.Tests.Infrastructure;

/// <summary>One Server-Sent Events frame as it came over the wire.</summary>
public sealed record SseFrame(string? Id, string? Event, string Data, string Raw)
{
    public JsonElement Json => JsonDocument.Parse(Data).RootElement;
}

/// <summary>Reads an SSE response frame by frame, failing (not hanging) when nothing comes in time.</summary>
public sealed class SseReader : IAsyncDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;

    private SseReader(HttpResponseMessage response, Stream body)
    {
        _response = response;
        _reader = new StreamReader(body, Encoding.UTF8);
    }

    public HttpResponseMessage Response => _response;

    /// <summary>Opens a stream; asserts it is 200 text/event-stream.</summary>
    public static async Task<SseReader> OpenAsync(HttpClient client, string path, string? lastEventId = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.ParseAdd("text/event-stream");
        if (lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastEventId);
        }
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
        if (response.Content.Headers.ContentType?.MediaType != "text/event-stream")
        {
            var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
            throw new InvalidOperationException($"Expected an event stream, got {(int)response.StatusCode}: {body}");
        }
        return new SseReader(response, await response.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken));
    }

    /// <summary>The next frame, or null when the server closed the stream.</summary>
    public async Task<SseFrame?> NextAsync(TimeSpan? timeout = null)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(timeout ?? TestTimeouts.Event);
        string? id = null, type = null;
        var data = new StringBuilder();
        var raw = new StringBuilder();
        while (true)
        {
            string? line;
            try
            {
                line = await _reader.ReadLineAsync(cts.Token);
            }
            catch (OperationCanceledException) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException("No SSE frame arrived in time.");
            }
            if (line is null)
            {
                return null;
            }
            if (line.Length > 0 && line[0] == ':')
            {
                // A comment (": connected", ": keep-alive") is no part of a frame: SSE clients ignore it.
                continue;
            }
            raw.Append(line).Append('\n');
            if (line.Length == 0)
            {
                if (raw.Length > 1)
                {
                    return new SseFrame(id, type, data.ToString(), raw.ToString());
                }
                raw.Clear();
                continue;
            }
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? "" : line[(colon + 1)..].TrimStart(' ');
            switch (field)
            {
                case "id": id = value; break;
                case "event": type = value; break;
                case "data": data.Append(data.Length > 0 ? "\n" : "").Append(value); break;
            }
        }
    }

    /// <summary>The next frame of the given event type, skipping others (such as lease renewals).</summary>
    public async Task<SseFrame> NextOfTypeAsync(string type)
    {
        while (true)
        {
            var frame = await NextAsync() ?? throw new InvalidOperationException($"The stream closed before an '{type}' frame.");
            if (frame.Event == type)
            {
                return frame;
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        _reader.Dispose();
        _response.Dispose();
        return ValueTask.CompletedTask;
    }
}
