using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Protocol;
using SessionMesh.Mcp;

namespace SessionMesh.Server.Mcp;

/// <summary>MCP over streamable HTTP at <see cref="Path"/>: the same tools as <c>session-mesh mcp</c>, behind the same bearer keys.</summary>
internal static class McpHosting
{
    public const string Path = "/mcp";

    public static void AddMeshMcp(this IServiceCollection services)
    {
        services.AddHttpContextAccessor();
        // The SDK logs every request at Information; the API's requests are not logged one by one either.
        services.AddLogging(logging => logging.AddFilter("ModelContextProtocol", LogLevel.Warning));
        services.TryAddScoped<IMeshOperations, CoreMeshOperations>();
        // Stateless (the SDK's default, and the 2026-07-28 revision's model): no session affinity, so /mcp behaves the
        // same behind a load balancer; 2025-11-25 clients still initialize and call tools, each request on its own.
        services.AddMcpServer(o => o.ServerInfo = new Implementation { Name = "session-mesh", Version = typeof(McpHosting).Assembly.GetName().Version?.ToString(3) ?? "0.0.0" })
            .WithHttpTransport()
            .WithSessionMesh();
    }

    public static void MapMeshMcp(this IEndpointRouteBuilder app) =>
        app.MapMcp(Path).RequireAuthorization();
}
