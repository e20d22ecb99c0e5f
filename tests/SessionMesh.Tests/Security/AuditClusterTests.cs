using System.Net;
using Microsoft.Extensions.DependencyInjection;
using SessionMesh.Server.Hosting;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Security;

/// <summary>An audit entry is filed under the cluster the write touched, so one cluster's ids never show in another's audit.</summary>
public sealed class AuditClusterTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_body_naming_a_cluster_files_the_entry_there_whatever_the_query_or_the_admins_own_cluster_say()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var admin = server.CreateClient();

        // The root key lives in "default"; ?cluster=decoy is ignored by these body endpoints and must not decide the filing.
        (await admin.PostReplyAsync("api/session-mesh/sessions?cluster=decoy", """{"agent_id": "secret-agent", "cluster": "blue"}""")).Expect(HttpStatusCode.Created);
        (await admin.PostReplyAsync("api/session-mesh/steer?cluster=decoy", """{"agent_id": "secret-agent", "direction": "north", "cluster": "blue"}""")).Expect(HttpStatusCode.OK);
        (await admin.PostReplyAsync("api/session-mesh/registry?cluster=decoy", """{"agent_id": "secret-agent", "specialization": "spying", "cluster": "blue"}""")).Expect(HttpStatusCode.Created);
        // A refused write (unknown agent in blue) is filed under blue too: that is the cluster it named.
        (await admin.PostReplyAsync("api/session-mesh/steer", """{"agent_id": "nobody", "direction": "north", "cluster": "blue"}""")).ExpectProblem(HttpStatusCode.NotFound, "agent_not_found");
        await server.App.Services.GetRequiredService<AuditWriter>().FlushAsync(Ct);

        var blue = await server.Store.ListAuditAsync("blue", null, 100, Ct);
        Assert.Equal(["POST /api/session-mesh/registry", "POST /api/session-mesh/sessions", "POST /api/session-mesh/steer", "POST /api/session-mesh/steer"],
            blue.Select(e => $"{e.Method} {e.Path}").Order(StringComparer.Ordinal));
        Assert.Empty(await server.Store.ListAuditAsync("decoy", null, 100, Ct));
        Assert.Empty(await server.Store.ListAuditAsync("default", null, 100, Ct));
    }

    [Fact]
    public async Task Writes_named_by_id_are_filed_under_the_cluster_of_the_thing_written_and_hidden_from_other_clusters()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var admin = server.CreateClient();
        var blueKey = (await admin.PostReplyAsync("api/session-mesh/keys", """{"scopes": ["read", "agent"], "cluster": "blue", "agent_id": "blue-agent"}""")).Expect(HttpStatusCode.Created).Json;
        var session = (await admin.PostReplyAsync("api/session-mesh/sessions", """{"agent_id": "blue-agent", "cluster": "blue"}""")).Expect(HttpStatusCode.Created).Json.GetProperty("session_id").GetString();
        (await admin.DeleteReplyAsync($"api/session-mesh/sessions/{session}")).Expect(HttpStatusCode.OK);
        (await admin.DeleteReplyAsync($"api/session-mesh/keys/{blueKey.GetProperty("key_id").GetString()}")).Expect(HttpStatusCode.OK);
        (await admin.DeleteReplyAsync("api/session-mesh/agents/blue-agent?cluster=blue&force=true")).Expect(HttpStatusCode.OK);
        await server.App.Services.GetRequiredService<AuditWriter>().FlushAsync(Ct);

        var blue = (await server.Store.ListAuditAsync("blue", null, 100, Ct)).Select(e => e.Method + " " + e.Path.Split('/')[3]).ToList();
        Assert.Equal(5, blue.Count);
        Assert.Contains("DELETE sessions", blue);
        Assert.Contains("DELETE keys", blue);
        Assert.Contains("DELETE agents", blue);

        // A key holder of the default cluster with the keys scope reads the audit of its own cluster: nothing of blue's.
        var defaultAuditor = (await admin.PostReplyAsync("api/session-mesh/keys", """{"scopes": ["read", "keys"]}""")).Expect(HttpStatusCode.Created).Json.GetProperty("session_key").GetString();
        using var auditor = server.CreateClient(defaultAuditor);
        var visible = await auditor.GetReplyAsync("api/session-mesh/audit?limit=1000");
        visible.Expect(HttpStatusCode.OK);
        Assert.DoesNotContain("blue-agent", visible.Body, StringComparison.Ordinal);
        Assert.DoesNotContain(session!, visible.Body, StringComparison.Ordinal);
    }
}
