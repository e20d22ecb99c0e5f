using ModelContextProtocol.Client;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Mcp;

/// <summary>The tools over streamable HTTP at <c>/mcp</c> on the server itself.</summary>
public sealed class HttpMcpToolsTests : McpToolsTests
{
    protected override Task<McpClient> ConnectAsync(MeshTestServer server, string key) => McpConnections.HttpAsync(server.BaseAddress, key);
}
