using ModelContextProtocol.Server;
using SessionMesh.Mcp;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the mesh's MCP tools and resources to an MCP server, whatever its transport.</summary>
public static class SessionMeshMcpBuilderExtensions
{
    /// <summary>
    /// The mesh's tools and resources, and the filter that answers a refusal as a tool error. The host registers the
    /// <see cref="IMeshOperations"/> the tools call: the client SDK (stdio) or the Core services for the caller (HTTP).
    /// </summary>
    public static IMcpServerBuilder WithSessionMesh(this IMcpServerBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.WithTools<MeshReadTools>(McpJson.Options)
            .WithTools<MeshWriteTools>(McpJson.Options)
            .WithTools<MeshLockTools>(McpJson.Options)
            .WithResources<MeshResources>()
            .WithRequestFilters(filters => filters.AddCallToolFilter(next => async (context, cancellationToken) =>
            {
                try
                {
                    if (context.MatchedPrimitive is McpServerTool tool)
                    {
                        ToolArguments.Check(tool.ProtocolTool.InputSchema, context.Params?.Arguments);
                    }
                    return await next(context, cancellationToken);
                }
                catch (Exception ex) when (MeshToolErrors.ToResult(ex) is { } refused)
                {
                    return refused;
                }
            }));
        return builder;
    }
}
