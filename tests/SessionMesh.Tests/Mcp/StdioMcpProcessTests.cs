using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using SessionMesh.Tests.Cli;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Mcp;

/// <summary><c>session-mesh mcp</c> as a process: what it writes where, how it starts and ends.</summary>
public sealed class StdioMcpProcessTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Stdout_carries_only_protocol_messages_even_with_verbose_logging()
    {
        await using var server = await MeshTestServer.StartAsync();
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(ServeProcess.CliPath);
        start.ArgumentList.Add("mcp");
        start.ArgumentList.Add("--verbose");
        start.Environment["SESSION_MESH_URL"] = server.BaseAddress.ToString();
        start.Environment["SESSION_API_KEY"] = server.RootKey;
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync(Ct);
        try
        {
            await process.StandardInput.WriteLineAsync("""{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}""");
            await process.StandardInput.WriteLineAsync("""{"jsonrpc":"2.0","method":"notifications/initialized"}""");
            await process.StandardInput.WriteLineAsync("""{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"list_sessions","arguments":{}}}""");
            await process.StandardInput.WriteLineAsync("""{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"get_agent","arguments":{"agent_id":"nobody"}}}""");
            await process.StandardInput.FlushAsync(Ct);

            var lines = new List<string>();
            var answered = new HashSet<int>();
            while (answered.Count < 3)
            {
                var line = await process.StandardOutput.ReadLineAsync(Ct).AsTask().WaitAsync(TestTimeouts.Request, Ct)
                    ?? throw new InvalidOperationException("stdout ended early; stderr: " + await stderr);
                lines.Add(line);
                using var message = JsonDocument.Parse(line);
                Assert.Equal("2.0", message.RootElement.GetProperty("jsonrpc").GetString());
                if (message.RootElement.TryGetProperty("id", out var id))
                {
                    answered.Add(id.GetInt32());
                }
            }
            process.StandardInput.Close();
            var rest = await process.StandardOutput.ReadToEndAsync(Ct).WaitAsync(TestTimeouts.Request, Ct);
            await process.WaitForExitAsync(Ct).WaitAsync(TestTimeouts.Request, Ct);

            Assert.All(rest.Split('\n', StringSplitOptions.RemoveEmptyEntries), line => JsonDocument.Parse(line).Dispose());
            Assert.Equal(0, process.ExitCode);
            // The client's request log went to stderr, never into the protocol stream.
            var log = await stderr;
            Assert.Contains("/api/session-mesh/alive", log, StringComparison.Ordinal);
            Assert.DoesNotContain(lines, line => line.Contains("/api/session-mesh/alive", StringComparison.Ordinal));
            Assert.DoesNotContain(server.RootKey, log, StringComparison.Ordinal);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    [Fact]
    public async Task Without_a_key_it_refuses_to_start_and_says_why_on_stderr()
    {
        using var cli = new CliHarness();

        var run = (await cli.RunProcessAsync("mcp")).Expect(4);

        Assert.Equal("", run.Out);
        Assert.Contains("SESSION_API_KEY", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreachable_server_is_a_tool_error_not_a_crash()
    {
        var closed = ClosedLoopbackPort();
        await using var mcp = await McpConnections.StdioAsync(new Uri($"http://127.0.0.1:{closed}"), "sm_x.not-a-real-key");

        var result = await mcp.CallAsync("list_sessions");

        Assert.Equal("server_unreachable", result.ErrorCode());
        Assert.Contains("SESSION_MESH_URL", result.Text(), StringComparison.Ordinal);
        Assert.NotEmpty(await mcp.ListToolsAsync(cancellationToken: Ct));
    }

    /// <summary>A loopback port nothing listens on: bound, then released.</summary>
    private static int ClosedLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
