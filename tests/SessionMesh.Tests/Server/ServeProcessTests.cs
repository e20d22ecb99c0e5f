using System.Net;
using System.Text.Json;
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
        var dir = MeshTestServer.NewDataDir();
        try
        {
            await using var serve = ServeProcess.Start(dir, ["--listen", "http://127.0.0.1:0", "--data-dir", "data"]);
            var address = await serve.AddressAsync();
            var rootKey = await serve.RootKeyAsync();

            using var client = ClientFor(address, rootKey);
            (await client.GetReplyAsync("api/session-mesh/keys/self")).Expect(HttpStatusCode.OK);
            Assert.Equal(rootKey, (await File.ReadAllTextAsync(Path.Combine(dir, "data", "root.key"), TestContext.Current.CancellationToken)).Trim());
            Assert.True(File.Exists(Path.Combine(dir, "data", "session-mesh.db")));
            Assert.Equal(0, await serve.StopAsync());
        }
        finally
        {
            MeshTestServer.DeleteDataDir(dir);
        }
    }

    [Fact]
    public async Task Settings_come_from_environment_variables()
    {
        var dir = MeshTestServer.NewDataDir();
        try
        {
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
        finally
        {
            MeshTestServer.DeleteDataDir(dir);
        }
    }

    [Fact]
    public async Task Settings_come_from_appsettings_json_and_logs_can_be_json()
    {
        var dir = MeshTestServer.NewDataDir();
        try
        {
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
        finally
        {
            MeshTestServer.DeleteDataDir(dir);
        }
    }

    [Fact]
    public async Task A_postgres_store_string_is_refused_with_a_clear_message()
    {
        var dir = MeshTestServer.NewDataDir();
        try
        {
            await using var serve = ServeProcess.Start(dir, ["--listen", "http://127.0.0.1:0", "--store", "Host=localhost;Database=mesh"]);
            Assert.Equal(1, await serve.WaitForExitAsync());
            Assert.Contains("PostgreSQL", serve.Error, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", serve.Error, StringComparison.Ordinal);
        }
        finally
        {
            MeshTestServer.DeleteDataDir(dir);
        }
    }
}
