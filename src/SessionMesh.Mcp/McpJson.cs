using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using ModelContextProtocol;
using SessionMesh.Contracts;

namespace SessionMesh.Mcp;

/// <summary>
/// The JSON options of the tools: the mesh's wire format (snake_case, the shared source-generated context) for what they
/// return, so a tool's answer reads like the API's, and the SDK's own resolvers for everything else.
/// </summary>
internal static class McpJson
{
    public static JsonSerializerOptions Options { get; } = Create();

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(McpJsonUtilities.DefaultOptions);
        MeshJson.ApplyTo(options);
        // The tools' own answers (AgentDetails, EventBatch) and their arguments are not in the mesh's context.
        options.TypeInfoResolverChain.Add(new DefaultJsonTypeInfoResolver());
        options.MakeReadOnly();
        return options;
    }
}
