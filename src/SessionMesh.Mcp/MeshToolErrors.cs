using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol.Protocol;
using SessionMesh.Mesh;

namespace SessionMesh.Mcp;

/// <summary>
/// Turns a refusal into a tool error (<c>isError</c>) an agent can act on: the API's <c>code</c>, its detail (which names
/// a missing scope or the field at fault), and a sentence saying what to do. The same text whatever the transport.
/// </summary>
public static class MeshToolErrors
{
    /// <summary>The tool result for <paramref name="exception"/>, or null when it is not a mesh refusal.</summary>
    public static CallToolResult? ToResult(Exception exception) => exception switch
    {
        MeshException mesh => Result(mesh.Code, mesh.Kind, mesh.Message, mesh.Field),
        MeshUnavailableException unavailable => Result(unavailable.Code, null, unavailable.Message, null),
        // What ToolArguments lets through and the SDK still cannot bind (a required argument left out, a number out of range).
        ArgumentException { ParamName: { } name } bad => Result("validation_failed", MeshErrorKind.Invalid, bad.Message, name),
        JsonException bad => Result("validation_failed", MeshErrorKind.Invalid, "An argument does not fit its type: " + bad.Message, null),
        _ => null,
    };

    /// <summary>"code: detail What to do."</summary>
    public static string Describe(string code, MeshErrorKind? kind, string message, string? field) =>
        $"{code}: {message.TrimEnd()} {WhatToDo(code, kind, field)}";

    private static CallToolResult Result(string code, MeshErrorKind? kind, string message, string? field)
    {
        var structured = new JsonObject
        {
            ["code"] = code,
            ["message"] = message,
            ["what_to_do"] = WhatToDo(code, kind, field),
        };
        if (field is not null)
        {
            structured["field"] = field;
        }
        return new CallToolResult
        {
            IsError = true,
            Content = [new TextContentBlock { Text = Describe(code, kind, message, field) }],
            StructuredContent = JsonSerializer.SerializeToElement(structured, McpJson.Options),
        };
    }

    private static string WhatToDo(string code, MeshErrorKind? kind, string? field) => code switch
    {
        "insufficient_scope" => "Use a session key that has that scope (an operator mints one with `session-mesh keys create --scope ...`), then call again.",
        "scope_escalation" => "Ask only for scopes this key has itself, or ask an operator for a wider key.",
        "agent_mismatch" => "This key acts only as its own agent: use its agent_id, or a key with the operator scope.",
        "missing_key" or "invalid_key" or "key_expired" or "key_revoked" =>
            "Set SESSION_API_KEY (stdio) or the Authorization: Bearer header (HTTP) to a valid session key and reconnect.",
        "agent_not_found" => "Check the agent_id with list_sessions or find_agents; ids are case-sensitive.",
        "agent_not_alive" => "The agent has no live session: pass queue_if_offline=true to deliver it when the agent joins, or pick a live agent with find_agents.",
        "revision_compacted" => "That history is gone: list the current state again (list_sessions), then call watch_events with the next_since it gives.",
        "spawn_limit_exceeded" => "The tree is at its depth or children limit: end or kill finished agents first.",
        "storage_full" => "Nothing was kept; retry once the server's operator has freed space.",
        "server_unreachable" => "Check that the mesh server is running and SESSION_MESH_URL points at it, then call again.",
        "rate_limited" => "Wait a few seconds, then call again.",
        _ => kind switch
        {
            MeshErrorKind.Invalid => field is null ? "Fix the arguments and call again." : $"Fix the '{field}' argument and call again.",
            MeshErrorKind.Unauthorized => "Set a valid session key and reconnect.",
            MeshErrorKind.Forbidden => "This key may not do that: use a key with the rights it needs.",
            MeshErrorKind.NotFound => "Check the id (list_sessions, find_agents, get_agent) and call again.",
            MeshErrorKind.Conflict => "The mesh's state does not allow it now: read the current state (get_agent, list_sessions) and decide again.",
            MeshErrorKind.Gone => "It has ended for good: read the current state (list_sessions) and go from there.",
            _ => "Call again in a moment; if it persists, check the server's logs.",
        },
    };
}
