namespace SessionMesh.Tests.Client;

/// <summary>Wire JSON the stub servers answer with, in the shape of the shared contract.</summary>
internal static class Samples
{
    public const string EmptyPage = """{"items": []}""";

    public static string Session(string sessionId, string agentId = "a1", string status = "active", int ttl = 30) => $$"""
        {"session_id": "{{sessionId}}", "agent_id": "{{agentId}}", "cluster": "default", "status": "{{status}}", "ttl": {{ttl}},
         "started_at": "2026-01-01T00:00:00.000Z", "last_seen": "2026-01-01T00:00:00.000Z", "expires_at": "2026-01-01T00:00:30.000Z", "labels": {}, "specializations": []}
        """;

    public static string SessionPage(params string[] agentIds) =>
        $$"""{"items": [{{string.Join(",", agentIds.Select((a, i) => Session($"s{i}", a)))}}]}""";

    public static string Command(long sequence, string kind = "steer", string agentId = "a1", string status = "delivered", string? direction = "north") => $$"""
        {"command_id": "c{{sequence}}", "agent_id": "{{agentId}}", "cluster": "default", "kind": "{{kind}}", "status": "{{status}}",
         "sequence": {{sequence}}, {{(direction is null ? "" : $"\"direction\": \"{direction}\",")}} "created_at": "2026-01-01T00:00:00.000Z"}
        """;

    public static string CommandFrame(long sequence, string kind = "steer") =>
        $"id: {sequence}\nevent: command\ndata: {Command(sequence, kind).ReplaceLineEndings(" ")}\n\n";

    public static string EventFrame(long revision, string type = "session.joined") =>
        $$"""id: {{revision}}{{"\n"}}event: {{type}}{{"\n"}}data: {"revision": {{revision}}, "type": "{{type}}", "cluster": "default", "at": "2026-01-01T00:00:00.000Z", "agent_id": "a{{revision}}"}{{"\n\n"}}""";

    public static string CreatedKey(string secret) => $$"""
        {"key_id": "key_new", "cluster": "default", "scopes": ["read"], "state": "active", "created_at": "2026-01-01T00:00:00.000Z",
         "expires_at": "2026-01-01T01:00:00.000Z", "session_key": "{{secret}}", "ttl": 3600}
        """;

    public static string Heartbeat(string sessionId) => $$"""
        {"session_id": "{{sessionId}}", "status": "active", "ttl": 30, "last_seen": "2026-01-01T00:00:00.000Z", "expires_at": "2026-01-01T00:00:30.000Z"}
        """;
}
