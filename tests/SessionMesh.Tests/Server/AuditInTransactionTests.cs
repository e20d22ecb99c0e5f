using System.Net;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Server;

/// <summary>A call whose write is durable has its audit entry in the same transaction: it is there the moment the answer is.</summary>
public sealed class AuditInTransactionTests
{
    private const string Api = "api/session-mesh";

    [Fact]
    public async Task A_committed_write_has_its_audit_entry_before_its_answer()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = server.CreateClient();

        for (var i = 0; i < 20; i++)
        {
            var joined = (await client.PostReplyAsync($"{Api}/sessions", $$"""{"agent_id": "a{{i}}"}""")).Expect(HttpStatusCode.Created);
            // Read the store at once: the audit writer's own batches would not have run yet.
            var newest = (await server.Store.ListAuditAsync(null, null, 1, TestContext.Current.CancellationToken))[0];
            Assert.Equal(("POST", "/api/session-mesh/sessions", 201), (newest.Method, newest.Path, newest.Status));
        }

        (await client.PostReplyAsync($"{Api}/registry", """{"specialization": "ocr", "agent_id": "a0"}""")).Expect(HttpStatusCode.Created);
        Assert.Equal(201, (await server.Store.ListAuditAsync(null, null, 1, TestContext.Current.CancellationToken))[0].Status);
        (await client.PostReplyAsync($"{Api}/registry", """{"specialization": "ocr", "agent_id": "a0"}""")).Expect(HttpStatusCode.OK);
        Assert.Equal(200, (await server.Store.ListAuditAsync(null, null, 1, TestContext.Current.CancellationToken))[0].Status);
    }
}
