using System.Diagnostics;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Reliability;

/// <summary>
/// <c>session-mesh serve</c> as a real process, SIGKILLed again and again at random moments while several clients
/// write, and restarted on the same store each time. Afterwards every write it acknowledged is there.
/// </summary>
public sealed class CrashConsistencyTests
{
    private const int Crashes = 20;
    private const int Clients = 4;
    private const string RootKey = "crash-consistency-root-key-0123456789";

    [Fact]
    public async Task Every_acknowledged_write_survives_twenty_SIGKILLs_at_random_moments()
    {
        using var temp = new TempDirectory();
        var seed = Environment.TickCount;
        var random = new Random(seed);
        var ledger = new CrashLedger();
        var clients = Enumerable.Range(0, Clients).Select(i => new CrashClient(i, ledger, new Random(seed + i + 1))).ToList();
        var environment = new Dictionary<string, string> { ["SESSION_MESH_ROOT_KEY"] = RootKey };
        // The workload must reach the store, not the rate limiter.
        string[] args = ["--listen", "http://127.0.0.1:0", "--data-dir", "data", "--Server:RateLimitPerSecond=1000000", "--Server:RateLimitBurst=1000000"];
        var clock = Stopwatch.StartNew();
        var operations = 0;

        for (var crash = 0; crash < Crashes; crash++)
        {
            await using var serve = ServeProcess.Start(temp.Path, args, environment);
            using var http = ClientFor(await serve.AddressAsync());
            using var stop = new CancellationTokenSource();
            var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var running = clients.Select(c => Task.Run(() => c.RunAsync(http, started, stop.Token), TestContext.Current.CancellationToken)).ToList();
            // The crash comes at a random moment of the workload, counted from its first answer (a cold, busy server
            // takes a while to answer at all): at once, mid-operation, or well into it. The delay is the moment
            // chosen, not a wait for something to happen.
            await Task.WhenAny(started.Task, Task.WhenAll(running)).WaitAsync(TestTimeouts.Request, TestContext.Current.CancellationToken);
            await Task.Delay(random.Next(0, 800), TestContext.Current.CancellationToken);
            await serve.KillAsync();
            operations += (await Task.WhenAll(running).WaitAsync(TestTimeouts.Request, TestContext.Current.CancellationToken)).Sum();
        }

        await using var last = ServeProcess.Start(temp.Path, args, environment);
        using var after = ClientFor(await last.AddressAsync());
        foreach (var client in clients)
        {
            await client.SettleAsync(after, TestContext.Current.CancellationToken);
        }
        var checks = new CrashChecks(after, ledger);
        await checks.RunAsync(clients);

        TestContext.Current.TestOutputHelper?.WriteLine(
            $"crash consistency (seed {seed}): {Crashes} SIGKILLs, {operations} operations answered, {ledger.WritesAnswered} writes answered 2xx, "
            + $"{checks.Checked} facts checked, lost {checks.Lost}, duplicated {checks.Duplicated}, delivered after ack {ledger.DeliveredAfterAck.Count}, "
            + $"redelivered before ack {ledger.Redeliveries}, audit entries {checks.AuditEntries}, events {checks.Events}, {clock.Elapsed.TotalSeconds:F1} s");
        foreach (var failure in checks.Failures.Concat(ledger.Unexpected).Concat(ledger.DeliveredAfterAck).Concat(ledger.DisorderedPolls).Take(20))
        {
            TestContext.Current.TestOutputHelper?.WriteLine("  " + failure);
        }
        Assert.True(operations >= Crashes, $"The workload barely ran: {operations} operations answered in {Crashes} runs.");
        Assert.Empty(ledger.Unexpected);
        Assert.Empty(ledger.DeliveredAfterAck);
        Assert.Empty(ledger.DisorderedPolls);
        Assert.Empty(checks.Failures);
        Assert.Equal(0, await last.StopAsync());
    }

    private static HttpClient ClientFor(string address)
    {
        var client = new HttpClient { BaseAddress = new Uri(address + "/"), Timeout = TestTimeouts.Request };
        client.DefaultRequestHeaders.Authorization = new("Bearer", RootKey);
        return client;
    }
}
