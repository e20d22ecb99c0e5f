using System.Text.Json;
using System.Text.Json.Serialization;

namespace SessionMesh.Contracts;

/// <summary>
/// The one source-generated JSON context of the wire format, shared by server, client, CLI and MCP:
/// snake_case names, unknown fields rejected, nulls left out.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DictionaryKeyPolicy = JsonKnownNamingPolicy.Unspecified,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    // A number sent as a string ("30") is a wrong type the API names, not a number.
    NumberHandling = JsonNumberHandling.Strict,
    // {"agent_id": "a", "agent_id": "b"} is ambiguous: refused, not read as its last value.
    AllowDuplicateProperties = false,
    Converters = [typeof(UtcTimestampConverter), typeof(RawJsonElementConverter)])]
[JsonSerializable(typeof(JoinRequest))]
[JsonSerializable(typeof(HeartbeatRequest))]
[JsonSerializable(typeof(SessionMesh.Model.AgentProgress))]
[JsonSerializable(typeof(SessionMesh.Model.AgentBudget))]
[JsonSerializable(typeof(UsageView))]
[JsonSerializable(typeof(SessionView))]
[JsonSerializable(typeof(HeartbeatResponse))]
[JsonSerializable(typeof(AgentView))]
[JsonSerializable(typeof(AgentTreeNode))]
[JsonSerializable(typeof(DeclareAgentRequest))]
[JsonSerializable(typeof(SpecializationInputBody))]
[JsonSerializable(typeof(RegisterRequest))]
[JsonSerializable(typeof(RegistryEntry))]
[JsonSerializable(typeof(SpecializationSummary))]
[JsonSerializable(typeof(UnregisterResponse))]
[JsonSerializable(typeof(CreateKeyRequest))]
[JsonSerializable(typeof(KeyView))]
[JsonSerializable(typeof(CreatedKeyView))]
[JsonSerializable(typeof(AuditView))]
[JsonSerializable(typeof(ProblemResponse))]
[JsonSerializable(typeof(HealthResponse))]
[JsonSerializable(typeof(Page<SessionView>))]
[JsonSerializable(typeof(Page<AgentView>))]
[JsonSerializable(typeof(Page<RegistryEntry>))]
[JsonSerializable(typeof(AgentCardEntry))]
[JsonSerializable(typeof(Page<AgentCardEntry>))]
[JsonSerializable(typeof(Page<SpecializationSummary>))]
[JsonSerializable(typeof(Page<KeyView>))]
[JsonSerializable(typeof(Page<AuditView>))]
[JsonSerializable(typeof(SteerRequest))]
[JsonSerializable(typeof(MessageRequest))]
[JsonSerializable(typeof(AckRequest))]
[JsonSerializable(typeof(CommandView))]
[JsonSerializable(typeof(KillResponse))]
[JsonSerializable(typeof(EventView))]
[JsonSerializable(typeof(TopologyView))]
[JsonSerializable(typeof(StreamEnd))]
[JsonSerializable(typeof(WatchEnd))]
[JsonSerializable(typeof(Page<CommandView>))]
[JsonSerializable(typeof(Page<EventView>))]
[JsonSerializable(typeof(LogAppendRequest))]
[JsonSerializable(typeof(LogAppendResponse))]
[JsonSerializable(typeof(LogLineView))]
[JsonSerializable(typeof(LogTailView))]
[JsonSerializable(typeof(AcquireLockRequest))]
[JsonSerializable(typeof(LockView))]
[JsonSerializable(typeof(Page<LockView>))]
[JsonSerializable(typeof(CreateWebhookRequest))]
[JsonSerializable(typeof(WebhookView))]
[JsonSerializable(typeof(CreatedWebhookView))]
[JsonSerializable(typeof(WebhookDeliveryView))]
[JsonSerializable(typeof(Page<WebhookView>))]
[JsonSerializable(typeof(Page<WebhookDeliveryView>))]
[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(List<string>))]
[JsonSerializable(typeof(JsonElement))]
public sealed partial class MeshJsonContext : JsonSerializerContext;
