using System.Net;
using Microsoft.Extensions.Time.Testing;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Server;

/// <summary>A stream lives no longer than the key that opened it: revoked, rotated away or expired, the stream ends and closes.</summary>
public sealed class StreamKeyValidityTests
{
    private const string Api = "api/session-mesh";

    private static async Task<(string Id, string Secret)> MintAsync(HttpClient root, string body)
    {
        var key = (await root.PostReplyAsync($"{Api}/keys", body)).Expect(HttpStatusCode.Created).Json;
        return (key.GetProperty("key_id").GetString()!, key.GetProperty("session_key").GetString()!);
    }

    /// <summary>Reads up to the end frame, asserts its code, then asserts the server closes the stream.</summary>
    private static async Task ExpectEndAsync(SseReader stream, string code)
    {
        var end = await stream.NextOfTypeAsync("end");
        Assert.True(code == end.Json.GetProperty("code").GetString(), $"Expected an end with code {code}: {end.Data}");
        Assert.Null(await stream.NextAsync());
    }

    /// <summary>
    /// <see cref="ExpectEndAsync"/> for a stream waiting on the fake clock. A stream that computed its wait just before
    /// the clock moved and set its timer just after waits a whole interval more, so the clock is moved again (the key
    /// stays expired) until the end frame comes.
    /// </summary>
    private static async Task ExpectEndWhileTheClockMovesAsync(SseReader stream, string code, FakeTimeProvider time)
    {
        for (var attempt = 0; attempt < 30; attempt++)
        {
            try
            {
                var frame = await stream.NextAsync(TimeSpan.FromSeconds(1));
                if (frame?.Event == "end")
                {
                    Assert.True(code == frame.Json.GetProperty("code").GetString(), $"Expected an end with code {code}: {frame.Data}");
                    Assert.Null(await stream.NextAsync());
                    return;
                }
            }
            catch (TimeoutException)
            {
                time.Advance(TimeSpan.FromSeconds(61));
            }
        }
        Assert.Fail($"No end frame with code {code} came while the clock moved.");
    }

    [Fact]
    public async Task Revoking_the_key_ends_its_command_stream()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var root = server.CreateClient();
        var (keyId, secret) = await MintAsync(root, """{"scopes": ["agent"], "agent_id": "w"}""");
        using var agent = server.CreateClient(secret);
        var sessionId = (await agent.PostReplyAsync($"{Api}/sessions", """{"agent_id": "w", "ttl": 300}""")).Expect(HttpStatusCode.Created).Json.GetProperty("session_id").GetString();
        await using var stream = await SseReader.OpenAsync(agent, $"{Api}/agents/w/commands");
        await stream.NextOfTypeAsync("lease");

        (await root.DeleteReplyAsync($"{Api}/keys/{keyId}")).Expect(HttpStatusCode.OK);

        var end = await stream.NextOfTypeAsync("end");
        Assert.Equal("key_revoked", end.Json.GetProperty("code").GetString());
        Assert.Equal(sessionId, end.Json.GetProperty("session_id").GetString());
        Assert.Null(await stream.NextAsync());
    }

    [Fact]
    public async Task Revoking_the_key_ends_its_event_watch()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var root = server.CreateClient();
        var (keyId, secret) = await MintAsync(root, """{"scopes": ["read"]}""");
        using var reader = server.CreateClient(secret);
        await root.JoinAsync("seen");
        // From the start of history, so a first frame (which is what sends the response headers) comes at once.
        await using var stream = await SseReader.OpenAsync(reader, $"{Api}/events?since=0");
        await stream.NextOfTypeAsync("session.joined");

        (await root.DeleteReplyAsync($"{Api}/keys/{keyId}")).Expect(HttpStatusCode.OK);

        await ExpectEndAsync(stream, "key_revoked");
    }

    [Fact]
    public async Task Rotating_the_key_away_ends_the_stream_opened_with_the_old_secret()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var root = server.CreateClient();
        var (_, secret) = await MintAsync(root, """{"scopes": ["agent"], "agent_id": "w"}""");
        using var oldClient = server.CreateClient(secret);
        (await oldClient.PostReplyAsync($"{Api}/sessions", """{"agent_id": "w", "ttl": 300}""")).Expect(HttpStatusCode.Created);
        await using var stream = await SseReader.OpenAsync(oldClient, $"{Api}/agents/w/commands");
        await stream.NextOfTypeAsync("lease");

        var rotated = (await oldClient.PostReplyAsync($"{Api}/keys", $$"""{"session_key": "{{secret}}"}""")).Expect(HttpStatusCode.Created).Json;

        await ExpectEndAsync(stream, "key_revoked");
        // The successor opens the stream again.
        using var newClient = server.CreateClient(rotated.GetProperty("session_key").GetString());
        await using var reopened = await SseReader.OpenAsync(newClient, $"{Api}/agents/w/commands");
        await reopened.NextOfTypeAsync("lease");
    }

    [Fact]
    public async Task An_expiring_key_ends_its_command_stream_and_its_event_watch()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await MeshTestServer.StartAsync(time: time);
        using var root = server.CreateClient();
        var (_, agentSecret) = await MintAsync(root, """{"scopes": ["agent"], "agent_id": "w", "ttl": 60}""");
        var (_, readSecret) = await MintAsync(root, """{"scopes": ["read"], "ttl": 60}""");
        using var agent = server.CreateClient(agentSecret);
        using var reader = server.CreateClient(readSecret);
        var sessionId = (await agent.PostReplyAsync($"{Api}/sessions", """{"agent_id": "w", "ttl": 300}""")).Expect(HttpStatusCode.Created).Json.GetProperty("session_id").GetString();
        await using var commands = await SseReader.OpenAsync(agent, $"{Api}/agents/w/commands");
        await commands.NextOfTypeAsync("lease");
        // From the start of history, so a first frame (which is what sends the response headers) comes at once.
        await using var events = await SseReader.OpenAsync(reader, $"{Api}/events?since=0");
        await events.NextOfTypeAsync("session.joined");

        // Both streams wait on the mesh's clock, so moving it past the keys' expiry wakes them.
        time.Advance(TimeSpan.FromSeconds(61));

        await ExpectEndWhileTheClockMovesAsync(commands, "key_expired", time);
        await ExpectEndWhileTheClockMovesAsync(events, "key_expired", time);
        // The stream stopped renewing the lease: the session's last renewal is from before the clock moved.
        var session = (await root.GetReplyAsync($"{Api}/sessions/{sessionId}")).Expect(HttpStatusCode.OK).Json;
        Assert.True(session.GetProperty("expires_at").GetDateTimeOffset() < time.GetUtcNow().AddSeconds(300 - 60), $"The lease was renewed after the key expired: {session}");
    }
}
