using System.Net;
using System.Net.Http.Headers;
using System.Text;
using SessionMesh.Security;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Security;

/// <summary>
/// A full run against a real <c>serve</c> process — keys minted, rotated, revoked, used to join and steer, and bad
/// requests carrying secrets in paths, queries, headers and bodies — after which every log line, every error body,
/// <c>/metrics</c>, the audit and the event history are searched for every secret the run issued: none may appear.
/// </summary>
public sealed class SecretsSuiteTests
{
    private const string Api = "api/session-mesh/";
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task No_secret_issued_in_a_full_run_appears_in_logs_error_bodies_metrics_audit_or_events()
    {
        using var temp = new TempDirectory();
        var rootKey = KeySecrets.NewToken("root");
        await using var serve = ServeProcess.Start(temp.Path, ["--listen", "http://127.0.0.1:0", "--data-dir", "data"],
            new Dictionary<string, string> { ["SESSION_MESH_ROOT_KEY"] = rootKey });
        var address = new Uri(await serve.AddressAsync() + "/");
        var secrets = new List<string> { rootKey };
        var searched = new StringBuilder();
        using var admin = Client(address, rootKey);

        // Keys: minted, rotated, revoked.
        var operatorKey = await MintAsync(admin, """{"scopes": ["read", "steer", "kill", "keys"], "name": "operator"}""", secrets);
        var agentKey = await MintAsync(admin, """{"scopes": ["agent"], "agent_id": "worker-1", "name": "worker"}""", secrets);
        var readerKey = await MintAsync(admin, """{"scopes": ["read"], "name": "reader"}""", secrets);
        var rotatedAgentKey = await MintAsync(admin, $$"""{"session_key": "{{agentKey}}"}""", secrets);
        using var operatorClient = Client(address, operatorKey);
        var childKey = await MintAsync(operatorClient, """{"scopes": ["read"], "ttl": 60}""", secrets);
        (await admin.DeleteReplyAsync(Api + "keys/" + KeySecrets.KeyIdOf(readerKey))).Expect(HttpStatusCode.OK);

        // Ordinary work with them.
        using var agent = Client(address, rotatedAgentKey);
        var session = (await agent.PostReplyAsync(Api + "sessions", """{"agent_id": "worker-1"}""")).Expect(HttpStatusCode.Created).Json.GetProperty("session_id").GetString();
        (await agent.PostReplyAsync(Api + $"sessions/{session}/heartbeat", "{}")).Expect(HttpStatusCode.OK);
        (await operatorClient.PostReplyAsync(Api + "steer", """{"agent_id": "worker-1", "direction": "east"}""")).Expect(HttpStatusCode.OK);
        using var child = Client(address, childKey);
        (await child.GetReplyAsync(Api + "alive")).Expect(HttpStatusCode.OK);

        // Bad requests: every secret as a bearer that no longer works, as ids, in bodies, in query strings.
        var errors = new List<Reply>
        {
            await Client(address, agentKey).GetReplyAsync(Api + "keys/self"),
            await Client(address, readerKey).GetReplyAsync(Api + "alive"),
            await admin.PostReplyAsync(Api + "keys", $$"""{"session_key": "{{readerKey}}"}"""),
        };
        foreach (var secret in secrets)
        {
            errors.Add(await admin.DeleteReplyAsync(Api + "keys/" + secret));
            errors.Add(await admin.GetReplyAsync(Api + "agents/" + secret));
            errors.Add(await admin.GetReplyAsync(Api + "sessions/" + secret));
            errors.Add(await admin.GetReplyAsync(Api + "commands/" + secret));
            errors.Add(await admin.DeleteReplyAsync(Api + "agents/" + secret));
            errors.Add(await admin.GetReplyAsync(Api + "agents?limit=" + secret));
            errors.Add(await admin.GetReplyAsync(Api + "alive?filter=" + secret));
            errors.Add(await admin.PostReplyAsync(Api + "steer", $$"""{"agent_id": "{{secret}}", "direction": "x"}"""));
            errors.Add(await admin.PostReplyAsync(Api + "sessions", $$"""{"agent_id": "{{secret}}"}"""));
            errors.Add(await admin.PostReplyAsync(Api + "sessions", $$"""{"agent_id": "a", "{{secret}}": true}"""));
            errors.Add(await admin.PostReplyAsync(Api + "registry", $$"""{"agent_id": "a", "specialization": "{{secret}}"}"""));
            errors.Add(await admin.PostReplyAsync(Api + "keys", $$"""{"scopes": ["{{secret}}"]}"""));
            errors.Add(await admin.PostReplyAsync(Api + $"sessions/{secret}/heartbeat", "{}"));
        }
        foreach (var error in errors)
        {
            Assert.True((int)error.Status is >= 400 and < 500, $"{(int)error.Status}: {error.Body}");
            searched.Append(error.Body).Append('\n');
        }

        searched.Append((await admin.GetReplyAsync("metrics")).Expect(HttpStatusCode.OK).Body);
        searched.Append((await admin.GetReplyAsync(Api + "audit?limit=1000")).Expect(HttpStatusCode.OK).Body);
        searched.Append((await admin.GetReplyAsync(Api + "events?since=0&limit=1000")).Expect(HttpStatusCode.OK).Body);
        searched.Append((await admin.GetReplyAsync(Api + "keys?limit=1000")).Expect(HttpStatusCode.OK).Body);
        Assert.Equal(0, await serve.StopAsync());
        searched.Append(serve.Output).Append(serve.Error);

        var text = searched.ToString();
        var hits = secrets.Sum(secret => Count(text, RandomPart(secret)));
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"secrets issued: {secrets.Count}; error bodies: {errors.Count}; bytes searched: {Encoding.UTF8.GetByteCount(text)}; hits: {hits}");
        Assert.True(hits == 0, "Secrets found:\n" + string.Join("\n", secrets.SelectMany(secret => Around(text, RandomPart(secret)))));
        // The search did look at something: the masked forms are there.
        Assert.Contains($"sm_{KeySecrets.KeyIdOf(operatorKey)}.***", text, StringComparison.Ordinal);
    }

    private static async Task<string> MintAsync(HttpClient client, string body, List<string> secrets)
    {
        var secret = (await client.PostReplyAsync(Api + "keys", body)).Expect(HttpStatusCode.Created).Json.GetProperty("session_key").GetString()!;
        secrets.Add(secret);
        return secret;
    }

    private static HttpClient Client(Uri address, string key)
    {
        var client = new HttpClient { BaseAddress = address, Timeout = TestTimeouts.Request };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    /// <summary>The random part after the key id: the part that makes it a secret.</summary>
    private static string RandomPart(string secret) => secret[(secret.IndexOf('.', StringComparison.Ordinal) + 1)..];

    /// <summary>Where a secret was found, with some text either side, for the failure message (the secrets are the test's own).</summary>
    private static IEnumerable<string> Around(string text, string value)
    {
        for (var at = text.IndexOf(value, StringComparison.Ordinal); at >= 0; at = text.IndexOf(value, at + value.Length, StringComparison.Ordinal))
        {
            var start = Math.Max(0, at - 120);
            yield return text[start..Math.Min(text.Length, at + value.Length + 40)].ReplaceLineEndings(" ");
        }
    }

    private static int Count(string text, string value)
    {
        var count = 0;
        for (var at = text.IndexOf(value, StringComparison.Ordinal); at >= 0; at = text.IndexOf(value, at + value.Length, StringComparison.Ordinal))
        {
            count++;
        }
        return count;
    }
}
