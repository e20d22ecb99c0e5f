using SessionMesh.Client;
using SessionMesh.Contracts;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Mcp;

public abstract partial class McpToolsTests
{
    [Fact]
    public async Task List_locks_answers_the_held_locks_a_page_at_a_time()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var api = new SessionMeshClient(server.BaseAddress, server.RootKey);
        var session = await api.JoinAsync(new JoinRequest { AgentId = "builder", Ttl = 60 }, Ct);
        await api.AcquireLockAsync(new AcquireLockRequest { Name = "repo/main", SessionId = session.SessionId }, Ct);
        await api.AcquireLockAsync(new AcquireLockRequest { Name = "deploy", SessionId = session.SessionId }, Ct);
        await using var mcp = await ConnectAsync(server, server.RootKey);

        var first = (await mcp.CallAsync("list_locks", new() { ["limit"] = 1 })).Json();
        var rest = (await mcp.CallAsync("list_locks", new() { ["cursor"] = first.GetProperty("next_cursor").GetString() })).Json();

        Assert.Equal("deploy", first.GetProperty("items")[0].GetProperty("name").GetString());
        Assert.Equal("builder", first.GetProperty("items")[0].GetProperty("agent_id").GetString());
        Assert.Equal("repo/main", rest.GetProperty("items")[0].GetProperty("name").GetString());
        Assert.Equal(1, rest.GetProperty("items").GetArrayLength());
    }
}
