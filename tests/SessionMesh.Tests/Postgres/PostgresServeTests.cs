using System.Net;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Postgres;

/// <summary><c>session-mesh serve --store "Host=..."</c> as a process, on a fresh PostgreSQL database.</summary>
public sealed class PostgresServeTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Serve_on_a_postgres_connection_string_keeps_its_data_across_a_restart()
    {
        await using var database = await PostgresTestDatabase.CreateAsync(Ct);
        using var temp = new TempDirectory();
        string sessionId;
        string rootKey;
        await using (var first = ServeProcess.Start(temp.Path, ["--listen", "http://127.0.0.1:0", "--store", database.ConnectionString, "--data-dir", "data"]))
        {
            rootKey = await first.RootKeyAsync();
            using var client = PostgresReplicas.ClientFor(await first.AddressAsync(), rootKey);
            (await client.GetReplyAsync("/readyz")).Expect(HttpStatusCode.OK);
            sessionId = await client.JoinAsync("a1");
            Assert.Contains("Store ready: postgres:Host=", first.Output, StringComparison.Ordinal);
            Assert.Equal(0, await first.StopAsync());
        }
        Assert.False(File.Exists(Path.Combine(temp.Path, "data", "session-mesh.db")), "serve on PostgreSQL must not make a SQLite file");

        var environment = new Dictionary<string, string> { ["SESSION_MESH_STORE"] = database.ConnectionString };
        await using var second = ServeProcess.Start(temp.Path, ["--listen", "http://127.0.0.1:0", "--data-dir", "data"], environment);
        using var again = PostgresReplicas.ClientFor(await second.AddressAsync(), rootKey);
        var session = (await again.GetReplyAsync($"api/session-mesh/sessions/{sessionId}")).Expect(HttpStatusCode.OK).Json;
        Assert.Equal("a1", session.GetProperty("agent_id").GetString());
    }
}
