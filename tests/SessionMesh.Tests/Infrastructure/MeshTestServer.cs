using System.Net.Http.Headers;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Time.Testing;
using SessionMesh.Cli.Commands;
using SessionMesh.Mesh;
using SessionMesh.Server;

namespace SessionMesh.Tests.Infrastructure;

/// <summary>
/// A real mesh server for a test: Kestrel on a free loopback port, a SQLite file in its own temp
/// directory, a known root key. Optionally on a <see cref="FakeTimeProvider"/>.
/// </summary>
public sealed class MeshTestServer : IAsyncDisposable
{
    private readonly bool _ownsDataDir;

    private MeshTestServer(WebApplication app, Uri baseAddress, string rootKey, string dataDir, bool ownsDataDir)
    {
        App = app;
        BaseAddress = baseAddress;
        RootKey = rootKey;
        DataDir = dataDir;
        _ownsDataDir = ownsDataDir;
    }

    public WebApplication App { get; }

    /// <summary>The server's root, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri BaseAddress { get; }

    /// <summary>The admin key every test server starts with.</summary>
    public string RootKey { get; }

    public string DataDir { get; }

    /// <summary>The server's store, to look at what was written.</summary>
    public SessionMesh.Store.IMeshStore Store => App.Services.GetRequiredService<SessionMesh.Store.IMeshStore>();

    /// <summary>The housekeeping the sweeper runs each tick; tests run its parts at once with a fake clock.</summary>
    public MeshMaintenance Maintenance => App.Services.GetRequiredService<MeshMaintenance>();

    /// <summary>One session sweep (stale, then expired), as the sweeper's tick runs it.</summary>
    public Task<int> SweepSessionsAsync() => Maintenance.SweepSessionsAsync(TestContext.Current.CancellationToken);

    /// <summary>One command sweep (deadlines, kill grace periods, max_runtime), as the sweeper's tick runs it.</summary>
    public Task<int> SweepCommandsAsync() => App.Services.GetRequiredService<CommandService>().SweepAsync(TestContext.Current.CancellationToken);

    /// <summary>Drops events past retention, as the sweeper's tick does.</summary>
    public Task<int> CompactEventsAsync() => App.Services.GetRequiredService<EventService>().CompactAsync(TestContext.Current.CancellationToken);

    /// <summary>A fresh temp directory for a server's data; deleted by the server that owns it.</summary>
    public static string NewDataDir() => Directory.CreateTempSubdirectory("session-mesh-test-").FullName;

    /// <summary>
    /// Starts a server. Pass <paramref name="dataDir"/> to reuse a store (a restart); pass <paramref name="rootKey"/> = "" to let the server generate one.
    /// With <paramref name="sandbox"/>, it is a <c>serve --sandbox</c> server with <paramref name="faults"/>: its own throwaway store, which it deletes when stopped.
    /// </summary>
    public static async Task<MeshTestServer> StartAsync(
        string? dataDir = null,
        TimeProvider? time = null,
        string? rootKey = null,
        IReadOnlyDictionary<string, string>? settings = null,
        bool sandbox = false,
        string? faults = null)
    {
        if (sandbox && dataDir is not null)
        {
            throw new ArgumentException("A sandbox server makes its own throwaway store.", nameof(dataDir));
        }
        var ownsDataDir = dataDir is null && !sandbox;
        dataDir ??= sandbox ? null : NewDataDir();
        rootKey ??= "test-root-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var args = new List<string> { $"--Server:RootKey={rootKey}" };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            args.Add($"--{key}={value}");
        }
        var app = ServerHost.Build(
            // The store of serve itself, so the test host opens (and locks) it the way serve does.
            new ServeSettings { Listen = "http://127.0.0.1:0", DataDir = dataDir, Sandbox = sandbox, Faults = faults, ConfigurationArgs = args, UseStore = ServeCommand.UseStore },
            builder =>
            {
                if (time is not null)
                {
                    builder.Services.Replace(ServiceDescriptor.Singleton(time));
                }
            });
        StartedServer started;
        try
        {
            started = await ServerHost.StartAsync(app, TestContext.Current.CancellationToken);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
        var address = new Uri(started.Addresses[0].Replace("[::]", "127.0.0.1", StringComparison.Ordinal) + "/");
        dataDir ??= app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<SessionMesh.Server.Hosting.MeshServerOptions>>().Value.DataDir;
        return new MeshTestServer(app, address, rootKey.Length == 0 ? started.GeneratedRootKey! : rootKey, dataDir, ownsDataDir);
    }

    /// <summary>An HTTP client for the server, authenticated with <paramref name="key"/> (the root key by default; "" for none).</summary>
    public HttpClient CreateClient(string? key = null)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TestTimeouts.Request };
        key ??= RootKey;
        if (key.Length > 0)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
        return client;
    }

    /// <summary>Stops the server; keeps the data directory when a test passed it in (so it can restart on it).</summary>
    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
        if (_ownsDataDir)
        {
            DeleteDataDir(DataDir);
        }
    }

    public static void DeleteDataDir(string dataDir)
    {
        try
        {
            Directory.Delete(dataDir, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open on some platform; the OS cleans temp eventually.
        }
    }
}
