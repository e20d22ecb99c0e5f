using SessionMesh.Client;
using SessionMesh.Contracts;
using SessionMesh.Model;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Client;

/// <summary>The SDK against the real mesh server: every call it offers, end to end.</summary>
public sealed class ClientAgainstMeshTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static SessionMeshClient NewClient(MeshTestServer server, string? key = null, Action<SessionMeshClientOptions>? configure = null)
    {
        var options = new SessionMeshClientOptions { Server = server.BaseAddress, SessionKey = key ?? server.RootKey, RetryBaseDelay = TimeSpan.FromMilliseconds(10) };
        configure?.Invoke(options);
        return new SessionMeshClient(options);
    }

    [Fact]
    public async Task Join_heartbeat_list_and_leave()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = NewClient(server);

        var session = await client.JoinAsync(new JoinRequest
        {
            AgentId = "planner-7",
            Specializations = [new SpecializationInput { Name = "planning" }],
            Labels = new() { ["zone"] = "eu" },
            Ttl = 60,
        }, Ct);
        var beat = await client.HeartbeatAsync(session.SessionId, new HeartbeatRequest { Load = 0.25, Status = "idle" }, Ct);
        var idle = await client.ListAliveAsync(new AliveQuery { Filter = "idle", Labels = ["zone=eu"] }, Ct);
        var agent = await client.GetAgentAsync("planner-7", Ct);
        var left = await client.LeaveAsync(session.SessionId, Ct);
        var alive = await client.ListAliveAsync(cancellationToken: Ct);

        Assert.Equal(SessionStatus.Active, session.Status);
        Assert.Equal(SessionStatus.Idle, beat.Status);
        Assert.Equal("planner-7", Assert.Single(idle.Items).AgentId);
        Assert.Equal(["planning"], agent.Specializations.Select(s => s.Name));
        Assert.Equal(SessionStatus.Left, left.Status);
        Assert.Empty(alive.Items);
        var ended = await Assert.ThrowsAsync<SessionMeshException>(() => client.HeartbeatAsync(session.SessionId, null, Ct));
        Assert.Equal(410, ended.Status);
    }

    [Fact]
    public async Task Registry_register_lookup_summarize_and_unregister()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = NewClient(server);

        var first = await client.RegisterAsync(new RegisterRequest { Specialization = "data-analysis", AgentId = "789", Tags = ["batch"] }, Ct);
        var again = await client.RegisterAsync(new RegisterRequest { Specialization = "data-analysis", AgentId = "789", Tags = ["batch"] }, Ct);
        var found = await client.ListRegistryAsync("data-analysis", cancellationToken: Ct);
        var summary = await client.ListSpecializationsAsync(cancellationToken: Ct);
        var removed = await client.UnregisterAsync("789", "data-analysis", Ct);

        Assert.True(first.Created);
        Assert.False(again.Created);
        Assert.False(first.Entry.Alive);
        Assert.Equal("789", Assert.Single(found.Items).AgentId);
        Assert.Equal(("data-analysis", 1, 0), summary.Items.Select(s => (s.Specialization, s.Agents, s.Alive)).Single());
        Assert.True(removed.Removed);
    }

    [Fact]
    public async Task Keys_create_self_list_revoke()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var root = NewClient(server);

        var created = await root.CreateKeyAsync(new CreateKeyRequest { Ttl = 600, Scopes = ["read"], Name = "reader" }, cancellationToken: Ct);
        using var reader = NewClient(server, created.SessionKey);
        var self = await reader.GetSelfKeyAsync(Ct);
        var forbidden = await Assert.ThrowsAsync<SessionMeshException>(() => reader.RegisterAsync(new RegisterRequest { Specialization = "x", AgentId = "y" }, Ct));
        var revoked = await root.RevokeKeyAsync(created.KeyId, Ct);
        var listed = await root.ListKeysAsync(cancellationToken: Ct);
        var refused = await Assert.ThrowsAsync<SessionMeshException>(() => reader.GetSelfKeyAsync(Ct));

        Assert.Equal(created.KeyId, self.KeyId);
        Assert.Equal(["read"], self.Scopes);
        Assert.Equal((403, "insufficient_scope"), (forbidden.Status, forbidden.Code));
        Assert.Equal("revoked", revoked.State);
        Assert.Contains(listed.Items, k => k.KeyId == created.KeyId && k.State == "revoked");
        Assert.Equal(401, refused.Status);
    }

    [Fact]
    public async Task A_refused_key_is_replaced_by_one_minted_with_the_minting_key()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var root = NewClient(server);
        var doomed = await root.CreateKeyAsync(new CreateKeyRequest { Ttl = 600, Scopes = ["read"] }, cancellationToken: Ct);
        await root.RevokeKeyAsync(doomed.KeyId, Ct);
        using var client = NewClient(server, doomed.SessionKey, o =>
        {
            o.MintingKey = server.RootKey;
            o.MintRequest = new CreateKeyRequest { Ttl = 300, Scopes = ["read"], Name = "minted-on-401" };
        });

        var page = await client.ListAliveAsync(cancellationToken: Ct);
        var self = await client.GetSelfKeyAsync(Ct);

        Assert.Empty(page.Items);
        Assert.NotEqual(doomed.SessionKey, client.SessionKey);
        Assert.Equal("minted-on-401", self.Name);
    }

    [Fact]
    public async Task Agents_tree_topology_and_audit()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = NewClient(server);
        await client.JoinAsync(new JoinRequest { AgentId = "root-agent" }, Ct);
        await client.JoinAsync(new JoinRequest { AgentId = "child-1", ParentId = "root-agent" }, Ct);

        var agents = new List<AgentView>();
        await foreach (var agent in client.ListAllAgentsAsync(Ct))
        {
            agents.Add(agent);
        }
        var tree = await client.GetAgentTreeAsync("root-agent", Ct);
        var audit = await client.ListAuditAsync(cancellationToken: Ct);

        Assert.Equal(["child-1", "root-agent"], agents.Select(a => a.AgentId).Order());
        Assert.Equal("child-1", Assert.Single(tree.Children).AgentId);
        Assert.Contains(audit.Items, a => a.Method == "POST" && a.Path.EndsWith("/sessions", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_unknown_agent_is_a_typed_404()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = NewClient(server);

        var ex = await Assert.ThrowsAsync<SessionMeshException>(() => client.GetAgentAsync("nobody", Ct));

        Assert.Equal((404, "agent_not_found"), (ex.Status, ex.Code));
    }

    [Fact]
    public async Task A_repeated_steer_with_the_same_Idempotency_Key_queues_one_command()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = NewClient(server);
        await client.JoinAsync(new JoinRequest { AgentId = "123" }, Ct);

        var first = await client.SteerAsync(new SteerRequest { AgentId = "123", Direction = "north" }, "retry-1", Ct);
        var second = await client.SteerAsync(new SteerRequest { AgentId = "123", Direction = "north" }, "retry-1", Ct);
        var pending = await client.PollCommandsAsync("123", cancellationToken: Ct);

        Assert.Equal(first.CommandId, second.CommandId);
        Assert.Single(pending.Items, c => c.Direction == "north");
    }

    [Fact]
    public async Task The_agent_helper_receives_a_steer_acks_it_and_sees_a_kill_as_a_cancelled_token()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var operatorClient = NewClient(server);
        using var agentClient = NewClient(server);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TestTimeouts.Event);
        await using var agent = await MeshAgent.JoinAsync(agentClient, new MeshAgentOptions { AgentId = "worker", Ttl = 30 }, timeout.Token);

        var steered = await operatorClient.SteerAsync(new SteerRequest { AgentId = "worker", Direction = "east" }, null, timeout.Token);
        var directions = new List<string?>();
        await foreach (var command in agent.ReadCommandsAsync(timeout.Token))
        {
            directions.Add(command.Direction);
            await agent.AckAsync(command, cancellationToken: timeout.Token);
            await operatorClient.KillAsync("worker", new KillOptions { Reason = "done" }, timeout.Token);
        }

        Assert.Equal(["east"], directions);
        Assert.True(agent.Killed.IsCancellationRequested);
        Assert.Equal("acked", (await operatorClient.GetCommandAsync(steered.CommandId, Ct)).Status);
    }

}
