using System.Buffers;
using System.Text.Json;

namespace SessionMesh.Server.Endpoints;

/// <summary>
/// The mesh's own A2A Agent Card: a catalog entry point, not an agent that takes A2A tasks. It names the mesh's API (its
/// own protocol binding, <c>session-mesh</c>, so A2A clients that speak only JSONRPC, GRPC or HTTP+JSON do not send it
/// tasks), the bearer session key it takes, and as skills what the API offers. Everything in it is fixed but the address
/// and the version: it says nothing about the fleet, since anyone may read it.
/// </summary>
internal static class MeshAgentCard
{
    public const string ProtocolBinding = "session-mesh";
    public const string SecuritySchemeName = "sessionKey";

    private static readonly string s_version = typeof(MeshAgentCard).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    /// <summary>The card for a server reached at <paramref name="origin"/> (scheme, host and path base, no trailing slash).</summary>
    public static JsonElement Build(string origin)
    {
        var api = origin + ServerHost.ApiPrefix;
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("name", "session-mesh");
            w.WriteString("description",
                "A control plane for fleets of live agent sessions, and an A2A agent catalog: find agents by skill as A2A Agent Cards with "
                + $"GET {ServerHost.ApiPrefix}/registry?specialization=SKILL&format=a2a, and read one agent's card at "
                + $"{ServerHost.ApiPrefix}/agents/AGENT_ID/.well-known/agent-card.json. Every call but this card takes a session key as a bearer token.");
            w.WriteString("version", s_version);
            w.WriteStartArray("supportedInterfaces");
            w.WriteStartObject();
            w.WriteString("url", api);
            w.WriteString("protocolBinding", ProtocolBinding);
            w.WriteString("protocolVersion", "1.0");
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteStartObject("capabilities");
            w.WriteBoolean("streaming", false);
            w.WriteBoolean("pushNotifications", false);
            w.WriteBoolean("extendedAgentCard", false);
            w.WriteEndObject();
            w.WriteStartObject("securitySchemes");
            w.WriteStartObject(SecuritySchemeName);
            w.WriteStartObject("httpAuthSecurityScheme");
            w.WriteString("scheme", "Bearer");
            w.WriteString("description", $"A session-mesh session key (minted with POST {ServerHost.ApiPrefix}/keys), sent as 'Authorization: Bearer <session_key>'.");
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteStartArray("securityRequirements");
            w.WriteStartObject();
            w.WriteStartObject("schemes");
            w.WriteStartObject(SecuritySchemeName);
            w.WriteStartArray("list");
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndArray();
            WriteStrings(w, "defaultInputModes", "application/json");
            WriteStrings(w, "defaultOutputModes", "application/json", "text/event-stream");
            w.WriteStartArray("skills");
            WriteSkill(w, "agent-catalog", "Agent catalog",
                $"Find the mesh's agents by skill (specialization), alive first and least loaded first, as A2A Agent Cards: GET {ServerHost.ApiPrefix}/registry?specialization=SKILL&format=a2a.",
                ["a2a", "registry", "discovery"], [$"GET {ServerHost.ApiPrefix}/registry?specialization=code-review&alive=true&format=a2a"]);
            WriteSkill(w, "agent-cards", "Agent cards",
                $"Store and serve each agent's A2A Agent Card; its skills become the agent's specializations: PUT and GET {ServerHost.ApiPrefix}/agents/AGENT_ID/card.",
                ["a2a", "agent-card"], [$"GET {ServerHost.ApiPrefix}/agents/reviewer-1/.well-known/agent-card.json"]);
            WriteSkill(w, "session-control", "Session control",
                $"Steer, message and kill live agent sessions: POST {ServerHost.ApiPrefix}/steer, POST {ServerHost.ApiPrefix}/agents/AGENT_ID/messages, DELETE {ServerHost.ApiPrefix}/agents/AGENT_ID.",
                ["steer", "kill", "sessions"], []);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        using var document = JsonDocument.Parse(buffer.WrittenMemory);
        return document.RootElement.Clone();
    }

    private static void WriteSkill(Utf8JsonWriter w, string id, string name, string description, string[] tags, string[] examples)
    {
        w.WriteStartObject();
        w.WriteString("id", id);
        w.WriteString("name", name);
        w.WriteString("description", description);
        WriteStrings(w, "tags", tags);
        if (examples.Length > 0)
        {
            WriteStrings(w, "examples", examples);
        }
        w.WriteEndObject();
    }

    private static void WriteStrings(Utf8JsonWriter w, string name, params string[] values)
    {
        w.WriteStartArray(name);
        foreach (var value in values)
        {
            w.WriteStringValue(value);
        }
        w.WriteEndArray();
    }
}
