using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Protocol;
using SessionMesh.Cli.Mcp;
using SessionMesh.Mcp;

namespace SessionMesh.Cli.Commands;

/// <summary>
/// <c>session-mesh mcp</c>: the mesh as MCP tools over stdio, for a coding agent to start as its MCP server. Stdout
/// carries MCP messages and nothing else (no banner); logs go to stderr.
/// </summary>
internal static class McpCommand
{
    public static Command Create(CliApp app)
    {
        var command = new Command("mcp", "Serve the mesh as MCP tools over stdio, for coding agents (stdout carries only MCP messages; logs go to stderr).");
        app.Examples(command,
            "SESSION_MESH_URL=http://127.0.0.1:7780 SESSION_API_KEY=<key> session-mesh mcp",
            "session-mesh mcp --server https://mesh.example:7780 --cluster distributed-comms");
        app.SetAction(command, async (context, parseResult, cancellationToken) =>
        {
            // Refuses to start without SESSION_API_KEY (exit 4, said on stderr): every tool would fail without one.
            using var client = context.CreateClient();
            var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
            builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
            builder.Logging.SetMinimumLevel(context.Verbose ? LogLevel.Debug : LogLevel.Warning);
            builder.Services.AddSingleton<IMeshOperations>(new ClientMeshOperations(client));
            builder.Services.AddMcpServer(o => o.ServerInfo = new Implementation { Name = "session-mesh", Version = ServerVersion })
                .WithStdioServerTransport()
                .WithSessionMesh();
            using var host = builder.Build();
            // Ends when the client closes stdin (the stdio transport stops the host) or on SIGINT/SIGTERM.
            await host.RunAsync(cancellationToken);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static string ServerVersion =>
        typeof(McpCommand).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
}
