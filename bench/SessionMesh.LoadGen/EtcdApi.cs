using System.Text;
using System.Text.Json;

namespace SessionMesh.LoadGen;

/// <summary>
/// The few etcd v3 calls the peer scenarios make, through etcd's HTTP/JSON gateway (checked against etcd 3.4):
/// the same transport as the mesh's API (HTTP/1.1 + JSON), so the two are compared on equal terms. Keys and values
/// are base64 in the gateway's JSON; 64-bit ids are strings.
/// </summary>
internal static class EtcdApi
{
    public const string GrantPath = "v3/lease/grant";

    public const string KeepAlivePath = "v3/lease/keepalive";

    public const string PutPath = "v3/kv/put";

    public const string WatchPath = "v3/watch";

    /// <summary>The watch scenario's keys: <c>bench/watch/TOKEN</c>.</summary>
    public const string WatchPrefix = "bench/watch/";

    /// <summary>A lease as long as a bench session's TTL, so none lapses during the run.</summary>
    public static readonly string GrantBody = $$"""{"TTL":{{MeshApi.SessionTtl}}}""";

    public static string KeepAliveBody(string leaseId) => $$"""{"ID":"{{leaseId}}"}""";

    public static string PutBody(string token) =>
        $$"""{"key":"{{Base64(WatchPrefix + token)}}","value":"{{Base64(token)}}"}""";

    /// <summary>A watch on every key under <see cref="WatchPrefix"/> (range_end = the prefix with its last byte + 1).</summary>
    public static string WatchBody() =>
        $$$"""{"create_request":{"key":"{{{Base64(WatchPrefix)}}}","range_end":"{{{Base64(WatchPrefix[..^1] + (char)(WatchPrefix[^1] + 1))}}}"}}""";

    /// <summary>Grants a lease; returns its id, or throws with etcd's answer.</summary>
    public static async Task<string> GrantAsync(HttpClient http, CancellationToken cancellationToken)
    {
        using var content = new StringContent(GrantBody, Encoding.UTF8, "application/json");
        using var response = await http.PostAsync(GrantPath, content, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"etcd lease grant answered {(int)response.StatusCode}: {body}");
        }
        using var json = JsonDocument.Parse(body);
        return json.RootElement.TryGetProperty("ID", out var id) && id.GetString() is { Length: > 0 } leaseId
            ? leaseId
            : throw new InvalidOperationException($"etcd lease grant returned no ID: {body}");
    }

    /// <summary>The tokens (values) of the put events in one line of a watch stream.</summary>
    public static IEnumerable<string> WatchedTokens(string line)
    {
        using var json = JsonDocument.Parse(line);
        if (!json.RootElement.TryGetProperty("result", out var result) || !result.TryGetProperty("events", out var events))
        {
            return [];
        }
        var tokens = new List<string>();
        foreach (var e in events.EnumerateArray())
        {
            if (e.TryGetProperty("kv", out var kv) && kv.TryGetProperty("value", out var value) && value.GetString() is { } encoded)
            {
                tokens.Add(Encoding.UTF8.GetString(Convert.FromBase64String(encoded)));
            }
        }
        return tokens;
    }

    /// <summary>True for the watch stream's first line, which says the watch exists.</summary>
    public static bool IsWatchCreated(string line)
    {
        using var json = JsonDocument.Parse(line);
        return json.RootElement.TryGetProperty("result", out var result) && result.TryGetProperty("created", out var created) && created.ValueKind == JsonValueKind.True;
    }

    private static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));
}
