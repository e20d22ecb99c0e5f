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
    /// <c>POST /agents/{agent_id}/logs</c>: ships a batch of the agent's output lines (what <c>session-mesh agent</c>
    /// does for its child). Not retried by the client: a retried batch could be kept twice, and a shipper prefers
    /// dropping a batch to blocking.
    /// </summary>
    public Task<LogAppendResponse> AppendLogsAsync(string agentId, LogAppendRequest request, CancellationToken cancellationToken = default) =>
        _transport.SendAsync(
            HttpMethod.Post, $"agents/{MeshQuery.Segment(agentId)}/logs", request, MeshJsonContext.Default.LogAppendRequest,
            MeshJsonContext.Default.LogAppendResponse, null, cancellationToken);

    /// <summary><c>GET /agents/{agent_id}/logs?tail=N</c>: the last lines kept for the agent (default 100).</summary>
    public Task<LogTailView> GetLogsAsync(string agentId, int? tail = null, CancellationToken cancellationToken = default) =>
        GetAsync(new MeshQuery($"agents/{MeshQuery.Segment(agentId)}/logs").Add("tail", tail).ToString(), MeshJsonContext.Default.LogTailView, cancellationToken);

    /// <summary>
    /// <c>GET /agents/{agent_id}/logs?follow=true</c>: the last <paramref name="tail"/> lines, then each new line as the
    /// server receives it, over one connection. Pass the last <see cref="LogLineView.Sequence"/> seen as
    /// <paramref name="after"/> to resume after it. Ends when the server closes the stream; a dropped connection throws.
    /// </summary>
    public async IAsyncEnumerable<LogLineView> FollowLogsAsync(
        string agentId, int? tail = null, long? after = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var path = new MeshQuery($"agents/{MeshQuery.Segment(agentId)}/logs").Add("follow", true).Add("tail", tail).ToString();
        var call = new MeshCallOptions { LastEventId = after?.ToString(CultureInfo.InvariantCulture) };
        using var response = await _transport.OpenStreamAsync(path, call, cancellationToken);
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        var info = MeshTransport.ReadInfo(MeshJsonContext.Default.LogLineView);
        var parser = SseParser.Create(stream, (eventType, data) => eventType is "line" or "message" ? JsonSerializer.Deserialize(data, info) : null);
        await foreach (var item in parser.EnumerateAsync(cancellationToken))
        {
            if (item.Data is { } line)
            {
                yield return line;
            }
        }
    }
}
