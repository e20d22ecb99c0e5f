using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace SessionMesh.LoadGen;

/// <summary>The few calls the bench makes, as plain HTTP: no client SDK, no retries, nothing between the worker and the wire.</summary>
internal static class MeshApi
{
    /// <summary>Session TTL of every bench join: longer than any run, so the lease sweeper has nothing to expire mid-measurement.</summary>
    public const int SessionTtl = 3600;

    private const string Api = "api/session-mesh";

    public const string HealthPath = "healthz";

    public const string SelfPath = Api + "/keys/self";

    public const string SteerPath = Api + "/steer";

    public const string EventsPath = Api + "/events";

    public const string ReadyPath = "readyz";

    /// <summary>The first page of alive sessions, as a dashboard or a scheduler asks for it.</summary>
    public const string AlivePagePath = Api + "/alive?filter=alive&limit=100";

    /// <summary>One agent's sessions, ended ones too: read through the agent's latest-session pointer and its ended-sessions index.</summary>
    public static string AgentHistoryPath(string agentId) => $"{Api}/alive?agent_id={Uri.EscapeDataString(agentId)}&filter=all";

    public static string HeartbeatPath(string sessionId) => $"{Api}/sessions/{sessionId}/heartbeat";

    public static string SessionsPath => Api + "/sessions";

    public static string CommandsPath(string agentId) => $"{Api}/agents/{agentId}/commands";

    /// <summary>A join body; agent ids made by the bench need no JSON escaping ([a-z0-9-]).</summary>
    public static string JoinBody(string agentId, int ttl = SessionTtl) =>
        string.Create(CultureInfo.InvariantCulture, $$$"""{"agent_id":"{{{agentId}}}","ttl":{{{ttl}}},"labels":{"bench":"loadgen"}}""");

    public const string HeartbeatBody = """{"load":0.5}""";

    public static string SteerBody(string agentId, string direction, bool queueIfOffline = false) => queueIfOffline
        ? $$"""{"agent_id":"{{agentId}}","direction":"{{direction}}","queue_if_offline":true}"""
        : $$"""{"agent_id":"{{agentId}}","direction":"{{direction}}"}""";

    /// <summary>Sends a request and reads the whole answer; returns the status code.</summary>
    public static async Task<int> SendAsync(HttpClient http, HttpMethod method, string path, string? json, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
        return (int)response.StatusCode;
    }

    /// <summary>Joins an agent; returns its session id, or throws with the server's answer.</summary>
    public static async Task<string> JoinAsync(HttpClient http, string agentId, int ttl, CancellationToken cancellationToken)
    {
        using var content = new StringContent(JoinBody(agentId, ttl), Encoding.UTF8, "application/json");
        using var response = await http.PostAsync(SessionsPath, content, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"Join of '{agentId}' answered {(int)response.StatusCode}: {body}");
        }
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("session_id").GetString()
            ?? throw new InvalidOperationException($"Join of '{agentId}' returned no session_id: {body}");
    }

    /// <summary>Joins each agent, <paramref name="parallelism"/> at a time; returns their session ids in order.</summary>
    public static async Task<string[]> JoinManyAsync(HttpClient http, IReadOnlyList<string> agentIds, int ttl, int parallelism, CancellationToken cancellationToken)
    {
        var sessionIds = new string[agentIds.Count];
        var options = new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(Enumerable.Range(0, agentIds.Count), options, async (i, ct) =>
            sessionIds[i] = await JoinAsync(http, agentIds[i], ttl, ct));
        return sessionIds;
    }

    /// <summary>Opens an agent's SSE command stream; the caller owns (and disposes) the response.</summary>
    public static async Task<HttpResponseMessage> OpenCommandStreamAsync(HttpClient http, string agentId, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, CommandsPath(agentId));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (response.Content.Headers.ContentType?.MediaType != "text/event-stream")
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            response.Dispose();
            throw new InvalidOperationException($"The command stream of '{agentId}' answered {(int)response.StatusCode}: {body}");
        }
        return response;
    }
}
