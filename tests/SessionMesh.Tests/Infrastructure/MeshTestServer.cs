using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Time.Testing;
using SessionMesh.Cli.Commands;
using SessionMesh.Mesh;
using SessionMesh.Server;
using SessionMesh.Server.Hosting;

namespace SessionMesh.Tests.Infrastructure;

/// <summary>
/// A real mesh server for a test (a <see cref="LocalMeshServer"/>): Kestrel on a free loopback port, a SQLite file
/// in its own temp directory, a known root key. Optionally on a <see cref="FakeTimeProvider"/>.
/// </summary>
public sealed class MeshTestServer : IAsyncDisposable
{
    private readonly LocalMeshServer _server;

    private MeshTestServer(LocalMeshServer server) => _server = server;

    public WebApplication App => _server.App;

    /// <summary>The server's root, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri BaseAddress => _server.BaseAddress;

    /// <summary>The admin key every test server starts with.</summary>
    public string RootKey => _server.RootKey;

    public string DataDir => _server.DataDir;

    /// <summary>The server's store, to look at what was written.</summary>
    public SessionMesh.Store.IMeshStore Store => App.Services.GetRequiredService<SessionMesh.Store.IMeshStore>();

    /// <summary>The housekeeping the sweeper runs each tick; tests run its parts at once with a fake clock.</summary>
    public MeshMaintenance Maintenance => App.Services.GetRequiredService<MeshMaintenance>();

    /// <summary>One session sweep (stale, then expired), as the sweeper's tick runs it.</summary>
    public Task<int> SweepSessionsAsync() => Maintenance.SweepSessionsAsync(TestContext.Current.CancellationToken);

    /// <summary>One stall sweep (announce stalled and progressing sessions, act on stalls), as the sweeper's tick runs it.</summary>
    public Task<int> SweepStallsAsync() => Maintenance.SweepStallsAsync(TestContext.Current.CancellationToken);

    /// <summary>
    /// One lease checkpoint, as the checkpointer's tick does: waits for the deliveries being recorded (a stream's
    /// "delivered" writes), then writes the leases renewed in memory to the store.
    /// </summary>
    public Task CheckpointLeasesAsync() => Maintenance.CheckpointLeasesAsync(TestContext.Current.CancellationToken);

    /// <summary>
    /// One command sweep (deadlines, kill grace periods, max_runtime), as the sweeper's tick runs it a moment after the
    /// hand-outs before it were recorded: it first waits for those writes, which ride in the next write's batch (up to
    /// 20 ms on a quiet server), since a sweep leaves alone a command whose hand-out is not written yet.
    /// </summary>
    /// <param name="afterDeliveries">False sweeps at once, with hand-outs perhaps still being written.</param>
    public async Task<int> SweepCommandsAsync(bool afterDeliveries = true)
    {
        var commands = App.Services.GetRequiredService<CommandService>();
        if (afterDeliveries)
        {
            await commands.DrainDeliveriesAsync().WaitAsync(TestContext.Current.CancellationToken);
        }
        return await commands.SweepAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>Deletes events and completed commands past retention and shrinks the store, as the sweeper does every retention interval.</summary>
    public Task<SessionMesh.Store.RetentionResult> ApplyRetentionAsync() => Maintenance.ApplyRetentionAsync(TestContext.Current.CancellationToken);

    /// <summary>A fresh temp directory for a server's data; deleted by the server that owns it.</summary>
    public static string NewDataDir() => TempDataDirectory.Create("test");

    /// <summary>
    /// Starts a server. Pass <paramref name="dataDir"/> to reuse a store (a restart); pass <paramref name="rootKey"/> = "" to let the server generate one.
    /// <paramref name="configure"/> changes the services after the server's own (e.g. wraps the store).
    /// With <paramref name="sandbox"/>, it is a <c>serve --sandbox</c> server with <paramref name="faults"/>: its own throwaway store, which it deletes when stopped.
    /// </summary>
    public static async Task<MeshTestServer> StartAsync(
        string? dataDir = null,
        TimeProvider? time = null,
        string? rootKey = null,
        IReadOnlyDictionary<string, string>? settings = null,
        bool sandbox = false,
        string? faults = null,
        Action<WebApplicationBuilder>? configure = null)
    {
        var server = await LocalMeshServer.StartAsync(
            new LocalMeshServerOptions
            {
                // The store of serve itself, so the test host opens (and locks) it the way serve does.
                UseStore = ServeCommand.UseStore,
                DataDir = dataDir,
                RootKey = rootKey,
                Settings = settings ?? new Dictionary<string, string>(),
                Sandbox = sandbox,
                Faults = faults,
                Configure = builder =>
                {
                    if (time is not null)
                    {
                        builder.Services.Replace(ServiceDescriptor.Singleton(time));
                    }
                    configure?.Invoke(builder);
                },
            },
            TestContext.Current.CancellationToken);
        return new MeshTestServer(server);
    }

    /// <summary>An HTTP client for the server, authenticated with <paramref name="key"/> (the root key by default; "" for none).</summary>
    public HttpClient CreateClient(string? key = null) => _server.CreateClient(key, TestTimeouts.Request);

    /// <summary>Stops the server; keeps the data directory when a test passed it in (so it can restart on it).</summary>
    public ValueTask DisposeAsync() => _server.DisposeAsync();

    public static void DeleteDataDir(string dataDir) => TempDataDirectory.Delete(dataDir);
}
