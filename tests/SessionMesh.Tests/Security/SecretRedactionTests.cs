using System.Net;
using Microsoft.Extensions.DependencyInjection;
using SessionMesh.Security;
using SessionMesh.Server.Hosting;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Security;

/// <summary>A secret pasted where an id goes is never echoed nor stored; key events are for keys with the keys scope.</summary>
public sealed class SecretRedactionTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_secret_pasted_as_a_key_id_is_neither_echoed_in_the_404_nor_stored_in_the_audit()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var admin = server.CreateClient();
        var minted = (await admin.PostReplyAsync("api/session-mesh/keys", """{"scopes": ["read"]}""")).Expect(HttpStatusCode.Created).Json;
        var secret = minted.GetProperty("session_key").GetString()!;
        var keyId = minted.GetProperty("key_id").GetString()!;

        var refused = (await admin.DeleteReplyAsync($"api/session-mesh/keys/{secret}")).ExpectProblem(HttpStatusCode.NotFound, "key_not_found");
        await server.App.Services.GetRequiredService<AuditWriter>().FlushAsync(Ct);

        Assert.DoesNotContain(SecretPart(secret), refused.Body, StringComparison.Ordinal);
        Assert.Contains($"sm_{keyId}.***", refused.Json.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal($"/api/session-mesh/keys/sm_{keyId}.***", refused.Json.GetProperty("instance").GetString());
        var entry = (await server.Store.ListAuditAsync(null, null, 1, Ct))[0];
        Assert.Equal(("DELETE", $"/api/session-mesh/keys/sm_{keyId}.***", 404), (entry.Method, entry.Path, entry.Status));
    }

    [Theory]
    [InlineData("api/session-mesh/sessions", """{"agent_id": "SECRET"}""", "agent_id")]
    [InlineData("api/session-mesh/steer", """{"agent_id": "SECRET", "direction": "x"}""", "agent_id")]
    [InlineData("api/session-mesh/registry", """{"agent_id": "a", "specialization": "SECRET"}""", "specialization")]
    [InlineData("api/session-mesh/sessions", """{"agent_id": "a", "SECRET": 1}""", null)]
    public async Task A_secret_in_a_body_is_refused_without_repeating_it_and_stored_nowhere(string path, string body, string? field)
    {
        await using var server = await MeshTestServer.StartAsync();
        using var admin = server.CreateClient();
        var secret = (await admin.PostReplyAsync("api/session-mesh/keys", """{"scopes": ["read"]}""")).Expect(HttpStatusCode.Created).Json.GetProperty("session_key").GetString()!;

        var refused = (await admin.PostReplyAsync(path, body.Replace("SECRET", secret, StringComparison.Ordinal))).ExpectProblem(HttpStatusCode.BadRequest, "validation_failed");

        Assert.DoesNotContain(SecretPart(secret), refused.Body, StringComparison.Ordinal);
        if (field is not null)
        {
            Assert.Equal(field, refused.Json.GetProperty("field").GetString());
        }
        var agents = await admin.GetReplyAsync("api/session-mesh/agents");
        Assert.DoesNotContain(SecretPart(secret), agents.Body, StringComparison.Ordinal);
    }

    [Fact]
    public void Redact_masks_every_secret_shaped_part_and_leaves_other_text_alone()
    {
        var secret = KeySecrets.NewToken("key_0123456789abcdef");
        Assert.Equal("a sm_key_0123456789abcdef.*** b sm_key_0123456789abcdef.***", KeySecrets.Redact($"a {secret} b {secret}"));
        Assert.Equal("sm_short.abc and key_0123 and planner-7", KeySecrets.Redact("sm_short.abc and key_0123 and planner-7"));
        Assert.True(KeySecrets.ContainsSecret(secret));
        Assert.False(KeySecrets.ContainsSecret("sm_key_01.not-a-secret"));
    }

    [Fact]
    public async Task Key_events_reach_only_keys_with_the_keys_scope_in_pages_and_streams()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var admin = server.CreateClient();
        var reader = (await admin.PostReplyAsync("api/session-mesh/keys", """{"scopes": ["read"], "name": "reader"}""")).Expect(HttpStatusCode.Created).Json.GetProperty("session_key").GetString();
        var keeper = (await admin.PostReplyAsync("api/session-mesh/keys", """{"scopes": ["read", "keys"], "name": "keeper"}""")).Expect(HttpStatusCode.Created).Json.GetProperty("session_key").GetString();
        using var readerClient = server.CreateClient(reader);
        using var keeperClient = server.CreateClient(keeper);
        await using var readerStream = await SseReader.OpenAsync(readerClient, "api/session-mesh/events?since=0");
        await using var keeperStream = await SseReader.OpenAsync(keeperClient, "api/session-mesh/events?since=0");

        (await admin.PostReplyAsync("api/session-mesh/keys", """{"scopes": ["steer"], "name": "bound-steerer", "agent_id": "worker-1"}""")).Expect(HttpStatusCode.Created);
        await admin.JoinAsync("marker");

        var readerPage = (await readerClient.GetReplyAsync("api/session-mesh/events?since=0")).Expect(HttpStatusCode.OK);
        var keeperPage = (await keeperClient.GetReplyAsync("api/session-mesh/events?since=0")).Expect(HttpStatusCode.OK);
        Assert.DoesNotContain("key.", readerPage.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("bound-steerer", readerPage.Body, StringComparison.Ordinal);
        Assert.Contains("session.joined", readerPage.Body, StringComparison.Ordinal);
        Assert.Contains("bound-steerer", keeperPage.Body, StringComparison.Ordinal);

        // The stream: the reader's first event is the join; the keeper sees the key events before it.
        var readerFirst = await readerStream.NextAsync();
        while (readerFirst?.Event == "ping")
        {
            readerFirst = await readerStream.NextAsync();
        }
        Assert.Equal("session.joined", readerFirst?.Event);
        Assert.Equal("key.created", (await keeperStream.NextOfTypeAsync("key.created")).Event);
    }

    /// <summary>The random part of a secret: what must never appear anywhere.</summary>
    private static string SecretPart(string secret) => secret[(secret.IndexOf('.', StringComparison.Ordinal) + 1)..];
}
