using ModelContextProtocol.Client;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Mcp;

/// <summary>The tools over stdio: <c>session-mesh mcp</c> as a child process, talking to the server through the client SDK.</summary>
public sealed class StdioMcpToolsTests : McpToolsTests
{
    protected override Task<McpClient> ConnectAsync(MeshTestServer server, string key) => McpConnections.StdioAsync(server.BaseAddress, key);
}
