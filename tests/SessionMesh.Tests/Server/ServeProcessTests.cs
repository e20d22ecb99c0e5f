using System.Net;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Server;

/// <summary><c>session-mesh serve</c> run as a process: flags, environment, appsettings, logs, shutdown.</summary>
public sealed class ServeProcessTests
{
    private static HttpClient ClientFor(string address, string key)
    {
        var client = new HttpClient { BaseAddress = new Uri(address + "/"), Timeout = TestTimeouts.Request };
        client.DefaultRequestHeaders.Authorization = new("Bearer", key);
        return client;
    }

    [Fact]
    public async Task First_start_prints_address_and_root_key_and_sigterm_stops_it_cleanly()
    {
        using var temp = new TempDirectory();
        var dir = temp.Path;
        await using var serve = ServeProcess.Start(dir, ["--listen", "http://127.0.0.1:0", "--data-dir", "data"]);
        var address = await serve.AddressAsync();
        var rootKey = await serve.RootKeyAsync();

        using var client = ClientFor(address, rootKey);
        (await client.GetReplyAsync("api/session-mesh/keys/self")).Expect(HttpStatusCode.OK);
        Assert.Equal(rootKey, (await File.ReadAllTextAsync(Path.Combine(dir, "data", "root.key"), TestContext.Current.CancellationToken)).Trim());
        Assert.True(File.Exists(Path.Combine(dir, "data", "session-mesh.db")));
        Assert.Equal(0, await serve.StopAsync());
    }

    [Fact]
    public async Task Settings_come_from_environment_variables()
    {
        using var temp = new TempDirectory();
        var dir = temp.Path;
        var environment = new Dictionary<string, string>
        {
            ["SESSION_MESH_LISTEN"] = "http://127.0.0.1:0",
            ["SESSION_MESH_STORE"] = "sqlite:" + Path.Combine(dir, "env.db"),
            ["SESSION_MESH_DATA_DIR"] = Path.Combine(dir, "env-data"),
            ["SESSION_MESH_ROOT_KEY"] = "env-root-key-0123456789",
        };
        await using var serve = ServeProcess.Start(dir, [], environment);
        using var client = ClientFor(await serve.AddressAsync(), "env-root-key-0123456789");

        (await client.GetReplyAsync("api/session-mesh/keys/self")).Expect(HttpStatusCode.OK);
        Assert.True(File.Exists(Path.Combine(dir, "env.db")));
        Assert.DoesNotContain("env-root-key-0123456789", serve.Output + serve.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(dir, "env-data", "root.key")));
    }

    [Fact]
    public async Task Settings_come_from_appsettings_json_and_logs_can_be_json()
    {
        using var temp = new TempDirectory();
        var dir = temp.Path;
        await File.WriteAllTextAsync(Path.Combine(dir, "appsettings.json"), """
            { "Server": { "Listen": "http://127.0.0.1:0", "DataDir": "from-appsettings" }, "Mesh": { "DefaultSessionTtl": 45 } }
            """, TestContext.Current.CancellationToken);
        await using var serve = ServeProcess.Start(dir, ["--log-format", "json"]);
        using var client = ClientFor(await serve.AddressAsync(), await serve.RootKeyAsync());

        var session = (await client.PostReplyAsync("api/session-mesh/sessions", """{"agent_id": "a"}""")).Expect(HttpStatusCode.Created).Json;
        Assert.Equal(45, session.GetProperty("ttl").GetInt32());
        Assert.True(File.Exists(Path.Combine(dir, "from-appsettings", "root.key")));
        Assert.Equal(0, await serve.StopAsync());
        var logLines = serve.Output.Split('\n').Where(l => l.StartsWith('{')).ToList();
        Assert.NotEmpty(logLines);
        Assert.All(logLines, l => Assert.Equal(JsonValueKind.Object, JsonDocument.Parse(l).RootElement.ValueKind));
    }

    [Fact]
    public async Task An_unreachable_postgres_store_stops_the_start_with_a_clear_message()
    {
        using var temp = new TempDirectory();
        var dir = temp.Path;
        // Port 1 on loopback: nothing listens there, so the connection is refused at once.
        await using var serve = ServeProcess.Start(dir, ["--listen", "http://127.0.0.1:0", "--store", "Host=127.0.0.1;Port=1;Database=mesh"]);
        Assert.Equal(1, await serve.WaitForExitAsync());
        Assert.Contains("Could not connect to the PostgreSQL store postgres:Host=127.0.0.1;Port=1;Database=mesh", serve.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", serve.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--listen", "http://127.0.0.1:7780x", "--listen")]
    [InlineData("--store", "Server=db.internal;Database=mesh;Password=x", "PostgreSQL")]
    [InlineData("--Mesh:DefaultSessionTtl=0", null, "DefaultSessionTtl")]
    [InlineData("--Server:OperationsListen=notaurl", null, "OperationsListen")]
    public async Task Bad_settings_stop_the_start_with_one_line(string flag, string? value, string named)
    {
        using var temp = new TempDirectory();
        var dir = temp.Path;
        var args = value is null ? new[] { "--listen", "http://127.0.0.1:0", flag } : ["--listen", "http://127.0.0.1:0", flag, value];
        if (flag == "--listen")
        {
            args = [flag, value!];
        }
        await using var serve = ServeProcess.Start(dir, args);

        Assert.Equal(1, await serve.WaitForExitAsync());
        Assert.Contains(named, serve.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", serve.Error, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(dir, "Server=*"));
    }

    [Fact]
    public async Task A_second_server_on_the_same_store_is_refused()
    {
        using var temp = new TempDirectory();
        var dir = temp.Path;
        await using var first = ServeProcess.Start(dir, ["--listen", "http://127.0.0.1:0"]);
        await first.AddressAsync();

        await using var second = ServeProcess.Start(dir, ["--listen", "http://127.0.0.1:0"]);

        Assert.Equal(1, await second.WaitForExitAsync());
        Assert.Contains("Another session-mesh server is using", second.Error, StringComparison.Ordinal);
        Assert.Equal(0, await first.StopAsync());
    }

    [Fact]
    public async Task A_store_from_a_newer_build_stops_the_start_with_one_line_while_the_pipeline_is_wired_beside_it()
    {
        using var temp = new TempDirectory();
        var dir = temp.Path;
        Directory.CreateDirectory(Path.Combine(dir, "store"));
        var database = Path.Combine(dir, "store", "session-mesh.db");
        await using (var connection = new SqliteConnection($"Data Source={database};Pooling=False"))
        {
            await connection.OpenAsync(TestContext.Current.CancellationToken);
            await using var command = connection.CreateCommand();
            command.CommandText = """
                CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL);
                INSERT INTO schema_migrations VALUES (999, 'from a later build', 0);
                """;
            await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }

        // The migrations run on one thread while the start-up wires the request pipeline on another: the refusal still
        // ends the start with its own message, and nothing listens.
        await using var serve = ServeProcess.Start(dir, ["--listen", "http://127.0.0.1:0", "--data-dir", "store"]);

        Assert.Equal(1, await serve.WaitForExitAsync());
        Assert.Contains("The database schema is at version 999, newer than this build knows", serve.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", serve.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("listening on", serve.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_port_in_use_is_one_line()
    {
        using var temp = new TempDirectory();
        var dir = temp.Path;
        await using var first = ServeProcess.Start(dir, ["--listen", "http://127.0.0.1:0", "--data-dir", "one"]);
        var address = await first.AddressAsync();

        await using var second = ServeProcess.Start(dir, ["--listen", address, "--data-dir", "two"]);

        Assert.Equal(1, await second.WaitForExitAsync());
        Assert.Contains("address already in use", second.Error, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("   at ", second.Error, StringComparison.Ordinal);
        // Nor Kestrel's logged stack on stdout before it.
        Assert.DoesNotContain("Hosting failed to start", second.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unprefixed_variables_do_not_configure_the_mesh()
    {
        using var temp = new TempDirectory();
        var dir = temp.Path;
        var environment = new Dictionary<string, string> { ["ROOT_KEY"] = "plain-root-key", ["DATA_DIR"] = Path.Combine(dir, "plain") };
        await using var serve = ServeProcess.Start(dir, ["--listen", "http://127.0.0.1:0"], environment);
        using var client = ClientFor(await serve.AddressAsync(), "plain-root-key");

        (await client.GetReplyAsync("api/session-mesh/keys/self")).ExpectProblem(HttpStatusCode.Unauthorized, "invalid_key");
        Assert.False(Directory.Exists(Path.Combine(dir, "plain")));
    }

    [Fact]
    public async Task The_operations_port_serves_probes_and_metrics_only()
    {
        using var temp = new TempDirectory();
        var dir = temp.Path;
        var port = FreePort();
        await using var serve = ServeProcess.Start(dir, ["--listen", "http://127.0.0.1:0", $"--Server:OperationsListen=http://127.0.0.1:{port}"]);
        var address = (await serve.AddressAsync()).Split(',')[0];
        var key = await serve.RootKeyAsync();
        var apiAddress = serve.Output.Split(' ', ',', '\n').First(a => a.StartsWith("http://", StringComparison.Ordinal) && !a.EndsWith($":{port}", StringComparison.Ordinal));
        using var operations = ClientFor($"http://127.0.0.1:{port}", key);
        using var api = ClientFor(apiAddress.Trim(), key);

        (await operations.GetReplyAsync("healthz")).Expect(HttpStatusCode.OK);
        (await operations.GetReplyAsync("metrics")).Expect(HttpStatusCode.OK);
        (await operations.GetReplyAsync("api/session-mesh/alive")).ExpectProblem(HttpStatusCode.NotFound, "route_not_found");
        (await api.GetReplyAsync("api/session-mesh/alive")).Expect(HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.NotFound, (await api.GetReplyAsync("metrics")).Status);
        _ = address;
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>
    /// Group commit answers a writer only after its batch committed: a SIGKILL never loses an acknowledged join. (A
    /// process kill leaves the OS's page cache intact, so this guards the commit-before-answer order; surviving a
    /// power cut on top of it is synchronous=FULL's fsync, which no test here can cut.)
    /// </summary>
    [Fact]
    public async Task Every_join_answered_before_a_SIGKILL_is_there_after_the_restart()
    {
        using var temp = new TempDirectory();
        const string RootKey = "crash-test-root-key-0123456789abcdef";
        var environment = new Dictionary<string, string> { ["SESSION_MESH_ROOT_KEY"] = RootKey };
        string[] args = ["--listen", "http://127.0.0.1:0", "--data-dir", "data"];
        var acknowledged = new System.Collections.Concurrent.ConcurrentQueue<(string Agent, string Session)>();
        var enough = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        await using (var serve = ServeProcess.Start(temp.Path, args, environment))
        {
            using var client = ClientFor(await serve.AddressAsync(), RootKey);
            using var stop = new CancellationTokenSource();
            // Eight writers join agents as fast as group commit lets them; the server is killed while they still write.
            var writers = Enumerable.Range(0, 8).Select(writer => Task.Run(async () =>
            {
                for (var i = 0; !stop.IsCancellationRequested; i++)
                {
                    try
                    {
                        var agent = $"w{writer}-{i}";
                        using var response = await client.PostAsync("api/session-mesh/sessions", new StringContent($$"""{"agent_id": "{{agent}}"}"""), stop.Token);
                        if (response.StatusCode == HttpStatusCode.Created)
                        {
                            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(stop.Token));
                            acknowledged.Enqueue((agent, json.RootElement.GetProperty("session_id").GetString()!));
                            if (acknowledged.Count >= 300)
                            {
                                enough.TrySetResult();
                            }
                        }
                    }
                    catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
                    {
                        return;
                    }
                }
            })).ToList();
            await enough.Task.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
            await serve.KillAsync();
            await stop.CancelAsync();
            await Task.WhenAll(writers);
        }

        await using var again = ServeProcess.Start(temp.Path, args, environment);
        using var after = ClientFor(await again.AddressAsync(), RootKey);
        foreach (var (agent, session) in acknowledged)
        {
            (await after.GetReplyAsync($"api/session-mesh/agents/{agent}")).Expect(HttpStatusCode.OK);
            (await after.GetReplyAsync($"api/session-mesh/sessions/{session}")).Expect(HttpStatusCode.OK);
        }
        Assert.Equal(0, await again.StopAsync());
    }
}
