using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http;
using Polly;
using SessionMesh.Client;
using SessionMesh.Client.Http;
using SessionMesh.Contracts;

namespace SessionMesh.Tests.Client;

public sealed class ClientRetryTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static SessionMeshClient NewClient(Uri server, Action<SessionMeshClientOptions>? configure = null)
    {
        var options = new SessionMeshClientOptions
        {
            Server = server,
            SessionKey = "test-key-0123456789",
            RetryBaseDelay = TimeSpan.FromMilliseconds(5),
        };
        configure?.Invoke(options);
        return new SessionMeshClient(options);
    }

    [Fact]
    public async Task A_server_that_fails_twice_then_answers_is_retried_to_success()
    {
        await using var server = await StubServer.StartAsync((context, n) =>
            n <= 2 ? StubServer.Problem(context, 503, "unavailable", "warming up") : StubServer.Json(context, 200, Samples.SessionPage("a1", "a2")));
        var retries = new ConcurrentQueue<MeshRetryLog>();
        using var client = NewClient(server.BaseAddress, o => o.OnRetry = retries.Enqueue);

        var page = await client.ListAliveAsync(new AliveQuery { Filter = "alive" }, Ct);

        Assert.Equal(["a1", "a2"], page.Items.Select(s => s.AgentId));
        Assert.Equal(3, server.Count);
        Assert.Equal([503, 503], retries.Select(r => r.Status));
        Assert.All(server.Requests, r => Assert.Equal("/api/session-mesh/alive?filter=alive", r.PathAndQuery));
        Assert.All(server.Requests, r => Assert.Equal("Bearer test-key-0123456789", r.Header("Authorization")));
    }

    [Fact]
    public async Task Three_failures_give_up_with_the_last_problem()
    {
        await using var server = await StubServer.StartAsync((context, _) => StubServer.Problem(context, 502, "bad_gateway", "upstream down"));
        using var client = NewClient(server.BaseAddress);

        var ex = await Assert.ThrowsAsync<SessionMeshException>(() => client.GetAgentAsync("a1", Ct));

        Assert.Equal(502, ex.Status);
        Assert.Equal("bad_gateway", ex.Code);
        Assert.Equal(3, server.Count);
    }

    [Fact]
    public async Task A_429_is_retried_after_the_Retry_After_the_server_asked_for()
    {
        await using var server = await StubServer.StartAsync((context, n) =>
        {
            if (n == 1)
            {
                context.Response.Headers.RetryAfter = "1";
                return StubServer.Problem(context, 429, "rate_limited", "slow down");
            }
            return StubServer.Json(context, 200, Samples.EmptyPage);
        });
        var retries = new ConcurrentQueue<MeshRetryLog>();
        using var client = NewClient(server.BaseAddress, o => o.OnRetry = retries.Enqueue);
        var started = TimeProvider.System.GetTimestamp();

        var page = await client.ListAgentsAsync(cancellationToken: Ct);

        Assert.Empty(page.Items);
        Assert.Equal(2, server.Count);
        var retry = Assert.Single(retries);
        Assert.Equal(429, retry.Status);
        Assert.Equal(TimeSpan.FromSeconds(1), retry.Delay);
        Assert.True(TimeProvider.System.GetElapsedTime(started) >= TimeSpan.FromSeconds(0.9));
    }

    [Fact]
    public async Task Other_4xx_are_not_retried_and_surface_code_and_detail()
    {
        await using var server = await StubServer.StartAsync((context, _) => StubServer.Problem(context, 404, "agent_not_found", "No agent '9' in this cluster."));
        using var client = NewClient(server.BaseAddress);

        var ex = await Assert.ThrowsAsync<SessionMeshException>(() => client.KillAsync("9", new KillOptions { Force = true }, Ct));

        Assert.Equal(1, server.Count);
        Assert.True(ex.IsNotFound);
        Assert.Equal("agent_not_found", ex.Code);
        Assert.Equal("No agent '9' in this cluster.", ex.Detail);
        Assert.Equal("/api/session-mesh/agents/9?force=true", server.Requests.Single().PathAndQuery);
    }

    [Fact]
    public async Task A_retried_steer_carries_the_same_Idempotency_Key_so_the_server_can_deduplicate()
    {
        await using var server = await StubServer.StartAsync((context, n) =>
            n == 1 ? StubServer.Problem(context, 503, "unavailable", "try again") : StubServer.Json(context, 200, Samples.Command(1, status: "queued")));
        using var client = NewClient(server.BaseAddress);

        var command = await client.SteerAsync(new SteerRequest { AgentId = "a1", Direction = "west" }, cancellationToken: Ct);

        Assert.Equal("c1", command.CommandId);
        var requests = server.Requests.ToArray();
        Assert.Equal(2, requests.Length);
        Assert.NotNull(requests[0].Header("Idempotency-Key"));
        Assert.Equal(requests[0].Header("Idempotency-Key"), requests[1].Header("Idempotency-Key"));
        Assert.Equal("""{"agent_id":"a1","direction":"west"}""", requests[0].Body);
        Assert.Equal(requests[0].Body, requests[1].Body);
    }

    [Fact]
    public async Task A_given_Idempotency_Key_is_sent_as_is()
    {
        await using var server = await StubServer.StartAsync((context, _) => StubServer.Json(context, 200, Samples.Command(1)));
        using var client = NewClient(server.BaseAddress);

        await client.SendMessageAsync("a1", new MessageRequest { Text = "hi" }, "my-key-1", Ct);

        Assert.Equal("my-key-1", server.Requests.Single().Header("Idempotency-Key"));
        Assert.Equal("/api/session-mesh/agents/a1/messages", server.Requests.Single().PathAndQuery);
    }

    [Fact]
    public void A_POST_without_an_Idempotency_Key_is_not_retried_after_it_may_have_reached_the_server()
    {
        using var post = new HttpRequestMessage(HttpMethod.Post, "http://127.0.0.1/api/session-mesh/steer");
        using var keyed = new HttpRequestMessage(HttpMethod.Post, "http://127.0.0.1/api/session-mesh/steer");
        keyed.Headers.Add("Idempotency-Key", "k");
        using var get = new HttpRequestMessage(HttpMethod.Get, "http://127.0.0.1/api/session-mesh/alive");
        using var unavailable = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable);
        var outcome = Outcome.FromResult(unavailable);

        Assert.False(MeshTransport.ShouldRetry(outcome, ContextFor(post)));
        Assert.True(MeshTransport.ShouldRetry(outcome, ContextFor(keyed)));
        Assert.True(MeshTransport.ShouldRetry(outcome, ContextFor(get)));
        // A refused connection never reached the server: safe to repeat whatever the method.
        var refused = Outcome.FromException<HttpResponseMessage>(new HttpRequestException(HttpRequestError.ConnectionError, "refused"));
        Assert.True(MeshTransport.ShouldRetry(refused, ContextFor(post)));
        using var notFound = new HttpResponseMessage(HttpStatusCode.NotFound);
        Assert.False(MeshTransport.ShouldRetry(Outcome.FromResult(notFound), ContextFor(get)));
    }

    [Fact]
    public async Task An_unreachable_server_fails_after_three_attempts_with_a_connection_exception()
    {
        var port = FreePort();
        var retries = new ConcurrentQueue<MeshRetryLog>();
        using var client = NewClient(new Uri($"http://127.0.0.1:{port}"), o => o.OnRetry = retries.Enqueue);

        var ex = await Assert.ThrowsAsync<SessionMeshConnectionException>(() => client.ListAliveAsync(cancellationToken: Ct));

        Assert.Equal(3, ex.Attempts);
        Assert.Equal(2, retries.Count);
        Assert.Contains($"127.0.0.1:{port}", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreachable_server_fails_over_to_the_next_replica_at_once_and_stays_there()
    {
        var dead = new Uri($"http://127.0.0.1:{FreePort()}");
        await using var server = await StubServer.StartAsync((context, _) => StubServer.Json(context, 201, Samples.Session("s1", ttl: 60)));
        var requests = new ConcurrentQueue<MeshRequestLog>();
        var retries = new ConcurrentQueue<MeshRetryLog>();
        using var client = NewClient(dead, o =>
        {
            o.FailoverServers = [server.BaseAddress];
            o.OnRequest = requests.Enqueue;
            o.OnRetry = retries.Enqueue;
        });

        // A join (a POST without an idempotency key) is sent again too: the dead replica never saw it.
        var joined = await client.JoinAsync(new JoinRequest { AgentId = "a1" }, Ct);
        await client.JoinAsync(new JoinRequest { AgentId = "a1" }, Ct);

        Assert.Equal("s1", joined.SessionId);
        Assert.Equal(server.BaseAddress, client.Server);
        Assert.Empty(retries);
        // One failed connect to the dead replica, then every request on the live one.
        Assert.Equal([null, 201, 201], requests.Select(r => r.Status));
        Assert.Equal(dead.Port, requests.First().Uri.Port);
        Assert.All(requests.Skip(1), r => Assert.Equal(server.BaseAddress.Port, r.Uri.Port));
        Assert.Equal(2, server.Requests.Count);
    }

    [Fact]
    public async Task A_replica_that_never_completes_the_connect_fails_over_after_the_connect_timeout()
    {
        // A listener that never accepts, its accept queue filled: the kernel drops further SYNs, so a connect hangs.
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        silent.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        silent.Listen(0);
        var hung = new Uri($"http://127.0.0.1:{((IPEndPoint)silent.LocalEndPoint!).Port}");
        var fillers = Enumerable.Range(0, 3).Select(_ => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)).ToList();
        using var stopFillers = new CancellationTokenSource();
        var filling = fillers.Select(f => f.ConnectAsync(silent.LocalEndPoint!, stopFillers.Token).AsTask()).ToList();
        await using var server = await StubServer.StartAsync((context, _) => StubServer.Json(context, 201, Samples.Session("s1", ttl: 60)));
        var requests = new ConcurrentQueue<MeshRequestLog>();
        using var client = NewClient(hung, o =>
        {
            o.FailoverServers = [server.BaseAddress];
            o.ConnectTimeout = TimeSpan.FromMilliseconds(500);
            o.OnRequest = requests.Enqueue;
        });

        try
        {
            var joined = await client.JoinAsync(new JoinRequest { AgentId = "a1" }, Ct);

            Assert.Equal("s1", joined.SessionId);
            Assert.Equal(server.BaseAddress, client.Server);
            Assert.Equal([null, 201], requests.Select(r => r.Status));
            Assert.Equal(hung.Port, requests.First().Uri.Port);
            Assert.Single(server.Requests);
        }
        finally
        {
            await stopFillers.CancelAsync();
            await Task.WhenAll(filling).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
            fillers.ForEach(f => f.Dispose());
        }
    }

    [Fact]
    public async Task When_every_replica_is_unreachable_the_error_names_the_last_one_tried()
    {
        var first = new Uri($"http://127.0.0.1:{FreePort()}");
        var second = new Uri($"http://127.0.0.1:{FreePort()}");
        using var client = NewClient(first, o =>
        {
            o.FailoverServers = [second];
            o.MaxAttempts = 1;
        });

        var ex = await Assert.ThrowsAsync<SessionMeshConnectionException>(() => client.ListAliveAsync(cancellationToken: Ct));

        Assert.Equal(2, ex.Attempts);
        Assert.Contains($"127.0.0.1:{second.Port}", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_401_mints_a_fresh_key_with_the_minting_key_and_retries_once()
    {
        await using var server = await StubServer.StartAsync((context, _) =>
        {
            var auth = context.Request.Headers.Authorization.ToString();
            return (context.Request.Method, context.Request.Path.Value, auth) switch
            {
                ("POST", "/api/session-mesh/keys", "Bearer minting-key-0123") => StubServer.Json(context, 201, Samples.CreatedKey("fresh-key-0123456789")),
                (_, _, "Bearer fresh-key-0123456789") => StubServer.Json(context, 200, Samples.EmptyPage),
                _ => StubServer.Problem(context, 401, "key_expired", "The key has expired."),
            };
        });
        using var client = NewClient(server.BaseAddress, o =>
        {
            o.SessionKey = "expired-key-0123456789";
            o.MintingKey = "minting-key-0123";
            o.MintRequest = new CreateKeyRequest { Ttl = 600, Scopes = ["read"] };
        });
        string? refreshed = null;
        client.KeyRefreshed += (_, key) => refreshed = key;

        var page = await client.ListKeysAsync(cancellationToken: Ct);

        Assert.Empty(page.Items);
        Assert.Equal("fresh-key-0123456789", client.SessionKey);
        Assert.Equal("fresh-key-0123456789", refreshed);
        var requests = server.Requests.ToArray();
        Assert.Equal(["GET /api/session-mesh/keys", "POST /api/session-mesh/keys", "GET /api/session-mesh/keys"], requests.Select(r => $"{r.Method} {r.PathAndQuery}"));
        Assert.Equal("""{"ttl":600,"scopes":["read"]}""", requests[1].Body);
        Assert.NotNull(requests[1].Header("Idempotency-Key"));
    }

    [Fact]
    public async Task A_401_without_a_way_to_mint_is_final()
    {
        await using var server = await StubServer.StartAsync((context, _) => StubServer.Problem(context, 401, "invalid_key", "Unknown key."));
        using var client = NewClient(server.BaseAddress);

        var ex = await Assert.ThrowsAsync<SessionMeshException>(() => client.GetSelfKeyAsync(Ct));

        Assert.Equal(401, ex.Status);
        Assert.Equal("invalid_key", ex.Code);
        Assert.Equal(1, server.Count);
    }

    [Fact]
    public async Task A_401_after_minting_is_not_refreshed_again()
    {
        var mints = 0;
        await using var server = await StubServer.StartAsync((context, _) =>
        {
            if (context.Request.Method == "POST")
            {
                Interlocked.Increment(ref mints);
                return StubServer.Json(context, 201, Samples.CreatedKey("also-refused-0123456"));
            }
            return StubServer.Problem(context, 401, "key_revoked", "Revoked.");
        });
        using var client = NewClient(server.BaseAddress, o => o.MintingKey = "minting-key-0123");

        var ex = await Assert.ThrowsAsync<SessionMeshException>(() => client.GetSelfKeyAsync(Ct));

        Assert.Equal("key_revoked", ex.Code);
        Assert.Equal(1, mints);
        Assert.Equal(3, server.Count);
    }

    [Fact]
    public async Task A_custom_key_refresh_callback_gets_the_rejection()
    {
        await using var server = await StubServer.StartAsync((context, _) =>
            context.Request.Headers.Authorization == "Bearer from-vault-0123456789"
                ? StubServer.Json(context, 200, Samples.EmptyPage)
                : StubServer.Problem(context, 401, "key_expired", "Expired."));
        string? seenCode = null;
        using var client = NewClient(server.BaseAddress, o => o.KeyRefresh = (context, _) =>
        {
            seenCode = context.Rejection.Code;
            return ValueTask.FromResult<string?>("from-vault-0123456789");
        });

        await client.ListAuditAsync(cancellationToken: Ct);

        Assert.Equal("key_expired", seenCode);
        Assert.Equal(2, server.Count);
    }

    [Fact]
    public async Task The_cluster_option_is_added_to_every_request()
    {
        await using var server = await StubServer.StartAsync((context, _) => StubServer.Json(context, 200, Samples.EmptyPage));
        using var client = NewClient(server.BaseAddress, o => o.Cluster = "distributed-comms");

        await client.ListAliveAsync(new AliveQuery { Filter = "active", Labels = ["zone=eu", "tier=gpu"] }, Ct);

        Assert.Equal("/api/session-mesh/alive?filter=active&label=zone%3Deu&label=tier%3Dgpu&cluster=distributed-comms", server.Requests.Single().PathAndQuery);
    }

    [Fact]
    public async Task Verbose_logging_sees_each_attempt_with_the_key_masked()
    {
        await using var server = await StubServer.StartAsync((context, n) =>
            n == 1 ? StubServer.Problem(context, 500, "boom", "boom") : StubServer.Json(context, 200, Samples.EmptyPage));
        var logs = new ConcurrentQueue<MeshRequestLog>();
        using var client = NewClient(server.BaseAddress, o => o.OnRequest = logs.Enqueue);

        await client.ListAgentsAsync(cancellationToken: Ct);

        Assert.Equal([500, 200], logs.Select(l => l.Status));
        Assert.All(logs, l => Assert.Equal("test****", l.MaskedKey));
    }

    private static ResilienceContext ContextFor(HttpRequestMessage request)
    {
        var context = ResilienceContextPool.Shared.Get();
        context.SetRequestMessage(request);
        return context;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
