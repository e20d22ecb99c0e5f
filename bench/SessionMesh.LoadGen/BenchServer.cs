using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using SessionMesh.Server;
using SessionMesh.Store.Sqlite;

namespace SessionMesh.LoadGen;

/// <summary>
/// The real server, in this process: Kestrel on a free 127.0.0.1 port, a fresh SQLite store in a temp
/// directory (deleted at the end), a known root key, and a rate limit too high to matter.
/// </summary>
internal sealed class BenchServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private BenchServer(WebApplication app, Uri baseAddress, string rootKey, string dataDir)
    {
        _app = app;
        BaseAddress = baseAddress;
        RootKey = rootKey;
        DataDir = dataDir;
    }

    public Uri BaseAddress { get; }

    public string RootKey { get; }

    public string DataDir { get; }

    public static async Task<BenchServer> StartAsync(CancellationToken cancellationToken)
    {
        var dataDir = Directory.CreateTempSubdirectory("session-mesh-bench-").FullName;
        // The shape of a generated root key (sm_root.<secret>): authentication reads the key by its id.
        var rootKey = "sm_root." + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        WebApplication? app = null;
        try
        {
            app = ServerHost.Build(new ServeSettings
            {
                Listen = "http://127.0.0.1:0",
                DataDir = dataDir,
                UseStore = (mesh, options) => mesh.UseSqlite(SqliteStoreSetting.ToDataSource(options.Store, options.DataDir)),
                ConfigurationArgs =
                [
                    $"--Server:RootKey={rootKey}",
                    "--Server:RateLimitPerSecond=1000000",
                    "--Server:RateLimitBurst=1000000",
                    // Same log level as a real server, but on stderr, so stdout carries only the table.
                    "--Logging:Console:LogToStandardErrorThreshold=Trace",
                ],
            });
            var started = await ServerHost.StartAsync(app, cancellationToken);
            var baseAddress = new Uri(started.Addresses[0] + "/");
            if (!IPAddress.TryParse(baseAddress.Host, out var ip) || !IPAddress.IsLoopback(ip))
            {
                throw new InvalidOperationException($"The bench server must listen on loopback only, not {baseAddress}.");
            }
            return new BenchServer(app, baseAddress, rootKey, dataDir);
        }
        catch
        {
            if (app is not null)
            {
                await app.DisposeAsync();
            }
            DeleteDataDir(dataDir);
            throw;
        }
    }

    /// <summary>A client with its own connection pool, to this server only; with the root key when <paramref name="authenticated"/>.</summary>
    public HttpClient CreateClient(TimeSpan timeout, bool authenticated)
    {
        var handler = new SocketsHttpHandler { PooledConnectionLifetime = Timeout.InfiniteTimeSpan, UseProxy = false };
        var client = new HttpClient(handler) { BaseAddress = BaseAddress, Timeout = timeout };
        if (authenticated)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", RootKey);
        }
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        using var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try
        {
            await _app.StopAsync(stopping.Token);
        }
        finally
        {
            await _app.DisposeAsync();
            DeleteDataDir(DataDir);
        }
    }

    private static void DeleteDataDir(string dataDir)
    {
        try
        {
            Directory.Delete(dataDir, recursive: true);
        }
        catch (IOException)
        {
            // Left for the OS to clean from temp.
        }
    }
}
