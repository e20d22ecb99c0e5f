using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using SessionMesh.Client;
using SessionMesh.Contracts;
using SessionMesh.Server.Hosting;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Mcp;

/// <summary><c>/mcp</c> on the server: bearer keys as on the API, both protocol revisions, audit entries for mutations.</summary>
public sealed class HttpMcpEndpointTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_request_without_a_key_is_refused_with_401_problem_json()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/mcp")
        {
            Content = new StringContent("""{"jsonrpc":"2.0","id":1,"method":"tools/list"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Accept.ParseAdd("application/json, text/event-stream");

        using var response = await http.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        Assert.Equal("missing_key", problem.RootElement.GetProperty("code").GetString());
        Assert.Contains("Bearer", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_sdk_client_without_a_key_cannot_connect()
    {
        await using var server = await MeshTestServer.StartAsync();

        var refused = await Assert.ThrowsAnyAsync<Exception>(() => McpConnections.HttpAsync(server.BaseAddress, key: null));

        Assert.Contains("401", refused.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_revoked_key_is_refused()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var admin = new SessionMeshClient(server.BaseAddress, server.RootKey);
        var key = await admin.CreateKeyAsync(new CreateKeyRequest { Scopes = ["read"], Ttl = 600 }, cancellationToken: Ct);
        await admin.RevokeKeyAsync(key.KeyId, Ct);

        var refused = await Assert.ThrowsAnyAsync<Exception>(() => McpConnections.HttpAsync(server.BaseAddress, key.SessionKey));

        Assert.Contains("401", refused.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("2025-11-25")]
    [InlineData("2026-07-28")]
    public async Task Clients_of_either_protocol_revision_call_tools(string protocolVersion)
    {
        await using var server = await MeshTestServer.StartAsync();
        using var api = new SessionMeshClient(server.BaseAddress, server.RootKey);
        await api.JoinAsync(new JoinRequest { AgentId = "rev", Ttl = 60 }, Ct);
        await using var mcp = await McpConnections.HttpAsync(server.BaseAddress, server.RootKey, protocolVersion);

        var sessions = (await mcp.CallAsync("list_sessions")).Json();

        Assert.Equal(protocolVersion, mcp.NegotiatedProtocolVersion);
        Assert.Equal("rev", Assert.Single(sessions.GetProperty("items").EnumerateArray()).GetProperty("agent_id").GetString());
    }

    [Fact]
    public async Task Mutations_through_mcp_are_audited_with_the_calling_key()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var admin = new SessionMeshClient(server.BaseAddress, server.RootKey);
        var registrar = await admin.CreateKeyAsync(new CreateKeyRequest { Scopes = ["read", "register"], Ttl = 600 }, cancellationToken: Ct);
        await using var mcp = await McpConnections.HttpAsync(server.BaseAddress, registrar.SessionKey);

        (await mcp.CallAsync("register_specialization", new() { ["agent_id"] = "789", ["specialization"] = "data-analysis" })).Json();
        var refused = await mcp.CallAsync("kill_agent", new() { ["agent_id"] = "789" });

        Assert.Equal("insufficient_scope", refused.ErrorCode());
        // As the API records them: 201 for a registration that created something; a refused call's entry is written off
        // the request path, so drain the writer before reading the log.
        await server.App.Services.GetRequiredService<AuditWriter>().FlushAsync(Ct);
        var entries = (await admin.ListAuditAsync(1000, null, Ct)).Items.Where(e => e.KeyId == registrar.KeyId).ToList();
        Assert.Contains(entries, e => e.Path == "/mcp/tools/register_specialization" && e.Status == 201 && e.Method == "MCP");
        Assert.Contains(entries, e => e.Path == "/mcp/tools/kill_agent" && e.Status == 403 && e.Code == "insufficient_scope");
    }
}
