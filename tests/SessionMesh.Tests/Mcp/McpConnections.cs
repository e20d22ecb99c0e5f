using System.Text.Json;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Mcp;

/// <summary>MCP clients from the SDK, connected the two ways a coding agent connects: stdio to <c>session-mesh mcp</c>, or HTTP to <c>/mcp</c>.</summary>
public static class McpConnections
{
    /// <summary>Starts <c>session-mesh mcp</c> as a child process pointed at <paramref name="server"/> with <paramref name="key"/>.</summary>
    public static Task<McpClient> StdioAsync(Uri server, string key, string? protocolVersion = null) =>
        McpClient.CreateAsync(
            new StdioClientTransport(new StdioClientTransportOptions
            {
                Name = "session-mesh",
                Command = "dotnet",
                Arguments = [ServeProcess.CliPath, "mcp"],
                EnvironmentVariables = new Dictionary<string, string?>
                {
                    ["SESSION_MESH_URL"] = server.ToString(),
                    ["SESSION_API_KEY"] = key,
                    ["SESSION_MESH_MINTING_KEY"] = null,
                    ["SESSION_MESH_CA_CERT"] = null,
                },
            }),
            Options(protocolVersion),
            cancellationToken: TestContext.Current.CancellationToken);

    /// <summary>Connects to <c>/mcp</c> on <paramref name="server"/>, sending <paramref name="key"/> as the bearer key (none when null).</summary>
    public static Task<McpClient> HttpAsync(Uri server, string? key, string? protocolVersion = null) =>
        McpClient.CreateAsync(
            new HttpClientTransport(new HttpClientTransportOptions
            {
                Endpoint = new Uri(server, "/mcp"),
                TransportMode = HttpTransportMode.StreamableHttp,
                AdditionalHeaders = key is null ? null : new Dictionary<string, string> { ["Authorization"] = "Bearer " + key },
            }),
            Options(protocolVersion),
            cancellationToken: TestContext.Current.CancellationToken);

    private static McpClientOptions Options(string? protocolVersion) => new()
    {
        ClientInfo = new Implementation { Name = "session-mesh-tests", Version = "1.0" },
        ProtocolVersion = protocolVersion,
    };

    /// <summary>Calls a tool and returns its result, failing the test on a protocol error.</summary>
    public static async Task<CallToolResult> CallAsync(this McpClient client, string tool, Dictionary<string, object?>? arguments = null) =>
        await client.CallToolAsync(tool, arguments ?? [], cancellationToken: TestContext.Current.CancellationToken)
            .AsTask().WaitAsync(TestTimeouts.Request, TestContext.Current.CancellationToken);

    /// <summary>The JSON a successful tool call answered.</summary>
    public static JsonElement Json(this CallToolResult result)
    {
        Assert.True(result.IsError is not true, "The tool failed: " + result.Text());
        return JsonDocument.Parse(result.Text()).RootElement.Clone();
    }

    /// <summary>The text of a result's content.</summary>
    public static string Text(this CallToolResult result) =>
        string.Concat(result.Content.OfType<TextContentBlock>().Select(block => block.Text));

    /// <summary>The API's code in a tool error.</summary>
    public static string ErrorCode(this CallToolResult result)
    {
        Assert.True(result.IsError, "Expected a tool error, got: " + result.Text());
        return result.StructuredContent!.Value.GetProperty("code").GetString()!;
    }
}
