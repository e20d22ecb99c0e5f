using System.Net;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Sandbox;

/// <summary><c>session-mesh serve --sandbox</c> as a user runs it: a real process, stopped with SIGTERM.</summary>
public sealed class SandboxServeProcessTests
{
    private const string Api = "api/session-mesh";
    private const string StoreLine = "Sandbox store (a throwaway store, deleted at exit): ";

    [Fact]
    public async Task Sandbox_prints_address_key_and_store_injects_faults_and_deletes_its_store_on_sigterm()
    {
        using var temp = new TempDirectory();
        var workingDir = temp.Path;
        await using var serve = ServeProcess.Start(workingDir, ["--sandbox", "--faults", "5xx=1.0"]);
        var address = await serve.AddressAsync();
        var rootKey = await serve.RootKeyAsync();
        var storeLine = serve.Output.Split('\n').Select(l => l.TrimEnd('\r')).Single(l => l.StartsWith(StoreLine, StringComparison.Ordinal));
        var storeDir = storeLine[StoreLine.Length..];
        Assert.Contains("Sandbox faults: 5xx=1 (read or change them at /api/session-mesh/sandbox/faults)", serve.Output, StringComparison.Ordinal);

        Assert.Matches(@"^http://127\.0\.0\.1:[1-9][0-9]*$", address);
        Assert.True(File.Exists(Path.Combine(storeDir, "session-mesh.db")), serve.Output);
        Assert.Equal(rootKey, (await File.ReadAllTextAsync(Path.Combine(storeDir, "root.key"), TestContext.Current.CancellationToken)).Trim());
        Assert.False(Directory.Exists(Path.Combine(workingDir, "session-mesh-data")));

        using var client = new HttpClient { BaseAddress = new Uri(address + "/"), Timeout = TestTimeouts.Request };
        client.DefaultRequestHeaders.Authorization = new("Bearer", rootKey);
        var faulted = await client.GetReplyAsync($"{Api}/keys/self");
        Assert.True(faulted.Status is HttpStatusCode.ServiceUnavailable or HttpStatusCode.InternalServerError, faulted.Body);
        Assert.Equal("sandbox_fault", faulted.Code);
        (await client.GetReplyAsync("healthz")).Expect(HttpStatusCode.OK);
        Assert.Equal(1, (await client.GetReplyAsync($"{Api}/sandbox/faults")).Expect(HttpStatusCode.OK).Json.GetProperty("5xx").GetDouble());
        (await client.SendReplyAsync(HttpMethod.Put, $"{Api}/sandbox/faults", "{}")).Expect(HttpStatusCode.OK);
        (await client.PostReplyAsync($"{Api}/sessions", """{"agent_id": "a"}""")).Expect(HttpStatusCode.Created);

        Assert.Equal(0, await serve.StopAsync());
        Assert.False(Directory.Exists(storeDir), $"{storeDir} is still there after the server stopped");
    }

    [Fact]
    public async Task A_bad_faults_spec_exits_1_with_one_line_naming_the_bad_part()
    {
        using var temp = new TempDirectory();
        var workingDir = temp.Path;
        await using var serve = ServeProcess.Start(workingDir, ["--sandbox", "--faults", "5xx=0.1,latency=fast"]);

        Assert.Equal(1, await serve.WaitForExitAsync());
        var lines = serve.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal("session-mesh: invalid --faults: 'latency=fast': latency must be a duration like 50ms or 1s, or a range like 20ms-200ms.", Assert.Single(lines));
        Assert.DoesNotContain("listening", serve.Output, StringComparison.Ordinal);
    }
}
