using System.Net;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SessionMesh.Model;
using SessionMesh.Security;
using SessionMesh.Server.Hosting;

namespace SessionMesh.Server;

/// <summary>
/// The real server in this process, for tests and benchmarks: built and started by <see cref="ServerHost"/> like
/// <c>serve</c>, on a free 127.0.0.1 port, on a temp data directory it deletes when disposed (unless given one),
/// with a known root key.
/// </summary>
public sealed class LocalMeshServer : IAsyncDisposable
{
    private const string Listen = "http://127.0.0.1:0";

    /// <summary>Longer than the server's own shutdown timeout, so a stuck stop fails the caller rather than hanging it.</summary>
    private static readonly TimeSpan s_stopTimeout = TimeSpan.FromSeconds(15);

    private readonly bool _ownsDataDir;

    private LocalMeshServer(WebApplication app, Uri baseAddress, string rootKey, string dataDir, bool ownsDataDir)
    {
        App = app;
        BaseAddress = baseAddress;
        RootKey = rootKey;
        DataDir = dataDir;
        _ownsDataDir = ownsDataDir;
    }

    public WebApplication App { get; }

    public IServiceProvider Services => App.Services;

    /// <summary>The server's root, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri BaseAddress { get; }

    /// <summary>The admin key the server started with (the one it generated, when asked to).</summary>
    public string RootKey { get; }

    /// <summary>Where the store and the root key file live.</summary>
    public string DataDir { get; }

    /// <summary>Builds and starts a server; on failure, leaves nothing running and no directory behind.</summary>
    public static async Task<LocalMeshServer> StartAsync(LocalMeshServerOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var ownsDataDir = options.DataDir is null && !options.Sandbox;
        var dataDir = ownsDataDir ? TempDataDirectory.Create("local") : options.DataDir;
        var rootKey = options.RootKey ?? KeySecrets.NewToken(ApiKeyRecord.RootKeyId);
        WebApplication? app = null;
        try
        {
            app = ServerHost.Build(
                new ServeSettings
                {
                    Listen = Listen,
                    DataDir = dataDir,
                    Sandbox = options.Sandbox,
                    Faults = options.Faults,
                    ConfigurationArgs = [$"--{MeshServerOptions.Section}:RootKey={rootKey}", .. options.Settings.Select(setting => $"--{setting.Key}={setting.Value}")],
                    UseStore = options.UseStore,
                },
                options.Configure);
            var started = await ServerHost.StartAsync(app, cancellationToken);
            var baseAddress = new Uri(started.Addresses[0] + "/");
            if (!IPAddress.TryParse(baseAddress.Host, out var ip) || !IPAddress.IsLoopback(ip))
            {
                throw new InvalidOperationException($"A local server must listen on loopback only, not {baseAddress}.");
            }
            return new LocalMeshServer(
                app,
                baseAddress,
                rootKey.Length == 0 ? started.GeneratedRootKey ?? "" : rootKey,
                // In sandbox mode, the throwaway directory the sandbox made.
                app.Services.GetRequiredService<IOptions<MeshServerOptions>>().Value.DataDir,
                ownsDataDir);
        }
        catch
        {
            if (app is not null)
            {
                await app.DisposeAsync();
            }
            if (ownsDataDir)
            {
                TempDataDirectory.Delete(dataDir!);
            }
            throw;
        }
    }

    /// <summary>
    /// A client to this server only, with its own connection pool and no proxy; authenticated with
    /// <paramref name="key"/> (the root key by default; "" for none). <paramref name="timeout"/> defaults to HttpClient's.
    /// </summary>
    public HttpClient CreateClient(string? key = null, TimeSpan? timeout = null)
    {
        var handler = new SocketsHttpHandler { PooledConnectionLifetime = Timeout.InfiniteTimeSpan, UseProxy = false };
        var client = new HttpClient(handler) { BaseAddress = BaseAddress };
        if (timeout is { } requestTimeout)
        {
            client.Timeout = requestTimeout;
        }
        key ??= RootKey;
        if (key.Length > 0)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
        return client;
    }

    /// <summary>Stops the server; deletes the data directory when it made it, keeps one it was given (to restart on).</summary>
    public async ValueTask DisposeAsync()
    {
        using var stopping = new CancellationTokenSource(s_stopTimeout);
        try
        {
            await App.StopAsync(stopping.Token);
        }
        finally
        {
            await App.DisposeAsync();
            if (_ownsDataDir)
            {
                TempDataDirectory.Delete(DataDir);
            }
        }
    }
}
