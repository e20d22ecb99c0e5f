using System.Diagnostics;
using System.Net;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Reliability;

/// <summary>
/// Slow clients (slowloris headers, dribbled bodies) are answered 408 and disconnected once the server's limits pass,
/// instead of holding a connection for as long as they like; other clients are answered meanwhile.
/// </summary>
public sealed class SlowClientTests
{
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(2);

    /// <summary>Kestrel checks its timeouts once a second; on a loaded machine give it a few more.</summary>
    private static readonly TimeSpan s_slack = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_client_sending_its_headers_a_byte_at_a_time_is_answered_408_and_disconnected()
    {
        await using var server = await MeshTestServer.StartAsync(settings: new Dictionary<string, string> { ["Server:RequestHeadersTimeout"] = "00:00:02" });
        using var other = server.CreateClient();
        await using var slow = await RawConnection.OpenAsync(server.BaseAddress, TestContext.Current.CancellationToken);
        await slow.SendAsync("GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ", TestContext.Current.CancellationToken);

        var (elapsed, sent) = await DribbleAsync(slow, "abcdefghij");
        (await other.GetReplyAsync("api/session-mesh/alive")).Expect(HttpStatusCode.OK);

        Assert.True(slow.ClosedByServer, $"Still connected after {elapsed}: {slow.Received}");
        Assert.StartsWith("HTTP/1.1 408", slow.Received, StringComparison.Ordinal);
        Assert.InRange(elapsed, s_limit - TimeSpan.FromMilliseconds(200), s_limit + s_slack);
        TestContext.Current.TestOutputHelper?.WriteLine($"slowloris: cut after {elapsed.TotalSeconds:F1} s and {sent} header bytes (limit {s_limit.TotalSeconds} s)");
    }

    [Fact]
    public async Task A_request_body_arriving_slower_than_the_minimum_rate_is_answered_408_and_writes_nothing()
    {
        await using var server = await MeshTestServer.StartAsync(settings: new Dictionary<string, string>
        {
            ["Server:MinRequestBodyDataRate"] = "100",
            ["Server:MinRequestBodyDataRateGracePeriod"] = "00:00:02",
        });
        using var other = server.CreateClient();
        var body = $$$"""{"agent_id": "dribbled", "labels": {"pad": "{{{new string('x', 200)}}}"}}""";
        await using var slow = await RawConnection.OpenAsync(server.BaseAddress, TestContext.Current.CancellationToken);
        await slow.SendAsync(
            $"POST /api/session-mesh/sessions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {server.RootKey}\r\n"
            + $"Content-Type: application/json\r\nContent-Length: {body.Length}\r\n\r\n",
            TestContext.Current.CancellationToken);

        var (elapsed, sent) = await DribbleAsync(slow, body);
        (await other.GetReplyAsync("api/session-mesh/alive")).Expect(HttpStatusCode.OK);

        Assert.True(slow.ClosedByServer, $"Still connected after {elapsed}: {slow.Received}");
        Assert.True(sent < body.Length, "The whole body went through before the server cut it.");
        Assert.StartsWith("HTTP/1.1 408", slow.Received, StringComparison.Ordinal);
        Assert.InRange(elapsed, s_limit - TimeSpan.FromMilliseconds(200), s_limit + s_slack);
        (await other.GetReplyAsync("api/session-mesh/agents/dribbled")).ExpectProblem(HttpStatusCode.NotFound, "agent_not_found");
        TestContext.Current.TestOutputHelper?.WriteLine($"slow body: cut after {elapsed.TotalSeconds:F1} s and {sent} of {body.Length} bytes (min 100 B/s, grace {s_limit.TotalSeconds} s)");
    }

    /// <summary>
    /// Sends <paramref name="text"/> one byte every 100 ms (the slowness under test, not a wait for something) until
    /// the server closes the connection, gives up after the limit and the slack, or the text runs out (then waits
    /// for the server's answer). Returns how long the server took and how many bytes went out.
    /// </summary>
    private static async Task<(TimeSpan Elapsed, int Sent)> DribbleAsync(RawConnection slow, string text)
    {
        var clock = Stopwatch.StartNew();
        var reading = Task.Run(async () =>
        {
            while (await slow.ReadOnceAsync(TestContext.Current.CancellationToken))
            {
            }
        });
        var sent = 0;
        while (!reading.IsCompleted && clock.Elapsed < s_limit + s_slack)
        {
            try
            {
                await slow.SendAsync(text[sent % text.Length].ToString(), TestContext.Current.CancellationToken);
                sent++;
            }
            catch (IOException)
            {
                break;
            }
            await Task.WhenAny(reading, Task.Delay(100, TestContext.Current.CancellationToken));
        }
        // The server's answer, when the text ran out first; a server that never closes fails the caller's assert.
        await Task.WhenAny(reading, Task.Delay(TestTimeouts.Event, TestContext.Current.CancellationToken));
        return (clock.Elapsed, sent);
    }
}
