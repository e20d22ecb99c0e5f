using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Text.Json;
using SessionMesh.Model;
using SessionMesh.Security;

namespace SessionMesh.LoadGen;

/// <summary>Starts the three processes the bench drives, each on a free 127.0.0.1 port, each waited for until it answers.</summary>
internal static class Targets
{
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The bare Kestrel endpoint (bench/SessionMesh.Baseline): <c>GET /</c> answers a fixed small JSON body. With
    /// <paramref name="relay"/>, it also relays steers to command streams on the mesh's paths, with nothing between
    /// (the floor of the scale run's steer row).
    /// </summary>
    public static async Task<Target> StartBaselineAsync(LoadGenOptions options, CancellationToken cancellationToken, bool relay = false)
    {
        var dll = DllPath(options.BaselineDll, "BaselineDll");
        var name = relay ? "relay" : "baseline";
        var process = ChildProcess.Start(name, DotnetStart(dll, relay ? ["--port", "0", "--relay"] : ["--port", "0"]), "baseline listening on ", forward: true);
        try
        {
            var address = await process.ReadyLineAsync(s_startTimeout, cancellationToken);
            var what = relay ? "bare Kestrel relaying each steer's body to its agent's SSE stream, no keys, no store" : "bare Kestrel, `GET /`";
            return new Target(name, process, new Uri(address + "/"), key: null, dataDir: null, $"`{Path.GetFileName(dll)}` ({what})");
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// <c>session-mesh serve</c> from the Cli's build output: a fresh temp data directory (SQLite store), a known root key
    /// (SESSION_MESH_ROOT_KEY), a free loopback port read back from its "listening on" line, the rate limit out of reach.
    /// With <paramref name="restart"/>, the same data directory and root key as a server stopped before (the directory is
    /// then the caller's to delete when this start fails); <paramref name="settings"/> are added to its command line.
    /// </summary>
    public static async Task<Target> StartServerAsync(LoadGenOptions options, CancellationToken cancellationToken, Target? restart = null, IReadOnlyList<string>? settings = null, string? rootKey = null)
    {
        var dll = DllPath(options.ServerDll, "ServerDll");
        var dataDir = restart?.DataDir ?? Directory.CreateTempSubdirectory("session-mesh-bench-").FullName;
        ChildProcess? process = null;
        try
        {
            rootKey = restart?.Key ?? rootKey ?? KeySecrets.NewToken(ApiKeyRecord.RootKeyId);
            var info = DotnetStart(dll,
            [
                "serve", "--listen", "http://127.0.0.1:0", "--data-dir", dataDir,
                "--Server:RateLimitPerSecond=1000000", "--Server:RateLimitBurst=1000000",
                // The bench opens thousands of streams with one key: the per-key cap would refuse them.
                "--Server:MaxStreamsPerKey=1000000",
                .. settings ?? [],
            ]);
            info.Environment["SESSION_MESH_ROOT_KEY"] = rootKey;
            process = ChildProcess.Start("server", info, "session-mesh listening on ", forward: true);
            var addresses = await process.ReadyLineAsync(s_startTimeout, cancellationToken);
            return new Target("server", process, new Uri(addresses.Split(',')[0].Trim() + "/"), rootKey, dataDir, $"`session-mesh serve` ({dll})");
        }
        catch
        {
            if (process is not null)
            {
                await process.DisposeAsync();
            }
            if (restart is null)
            {
                Target.DeleteDirectory(dataDir);
            }
            throw;
        }
    }

    /// <summary>
    /// etcd (Debian's etcd-server) as a one-member cluster on two free loopback ports with a temp data directory; null, with
    /// Skipped saying why, when it is not installed or <c>--etcd none</c>.
    /// </summary>
    public static async Task<(Target? Etcd, string? Skipped)> StartEtcdAsync(LoadGenOptions options, CancellationToken cancellationToken)
    {
        if (options.Etcd == "none")
        {
            return (null, "etcd rows skipped: --etcd none.");
        }
        var binary = options.Etcd ?? FindOnPath("etcd");
        if (binary is null || !File.Exists(binary))
        {
            return (null, $"etcd rows skipped: no `{options.Etcd ?? "etcd"}` found{(options.Etcd is null ? " on PATH" : "")} (Debian: `apt-get install etcd-server`).");
        }
        // Two free ports are picked, then handed to etcd: another process may take one in between, so try again then.
        for (var attempt = 1; ; attempt++)
        {
            var dataDir = Directory.CreateTempSubdirectory("session-mesh-bench-etcd-").FullName;
            var client = $"http://127.0.0.1:{FreePort()}";
            var peer = $"http://127.0.0.1:{FreePort()}";
            var info = new ProcessStartInfo(binary,
            [
                "--name", "bench", "--data-dir", dataDir,
                "--listen-client-urls", client, "--advertise-client-urls", client,
                "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", "bench=" + peer,
                "--logger", "zap", "--log-level", "warn",
            ]);
            var process = ChildProcess.Start("etcd", info, readyPrefix: null, forward: false);
            try
            {
                var version = await WaitForEtcdAsync(process, new Uri(client + "/"), cancellationToken);
                return (new Target("etcd", process, new Uri(client + "/"), key: null, dataDir, $"`{binary}` {version} (HTTP/JSON gateway)"), null);
            }
            catch (InvalidOperationException) when (attempt < 3 && !cancellationToken.IsCancellationRequested)
            {
                await process.DisposeAsync();
                Target.DeleteDirectory(dataDir);
            }
            catch
            {
                await process.DisposeAsync();
                Target.DeleteDirectory(dataDir);
                throw;
            }
        }
    }

    /// <summary>Polls <c>/health</c> until etcd reports healthy; returns its version.</summary>
    private static async Task<string> WaitForEtcdAsync(ChildProcess process, Uri baseAddress, CancellationToken cancellationToken)
    {
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.GetTimestamp() + (long)(s_startTimeout.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"etcd exited before it was ready. Its last output:{Environment.NewLine}{process.Tail()}");
            }
            try
            {
                var health = await http.GetStringAsync("health", cancellationToken);
                if (health.Contains("\"true\"", StringComparison.Ordinal))
                {
                    using var version = JsonDocument.Parse(await http.GetStringAsync("version", cancellationToken));
                    return version.RootElement.GetProperty("etcdserver").GetString() ?? "?";
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
            }
            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
        }
        throw new InvalidOperationException($"etcd was not healthy within {s_startTimeout.TotalSeconds:0} s. Its last output:{Environment.NewLine}{process.Tail()}");
    }

    /// <summary>A .NET app's dll run by the same dotnet host (and so the same runtime) as the bench.</summary>
    internal static ProcessStartInfo DotnetStart(string dll, IEnumerable<string> arguments)
    {
        // The runtime lives in <dotnet root>/shared/Microsoft.NETCore.App/<version>/; the host is at the root.
        var runtimeDirectory = Path.GetDirectoryName(typeof(object).Assembly.Location) ?? "";
        var host = Path.GetFullPath(Path.Combine(runtimeDirectory, "..", "..", "..", OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet"));
        return new ProcessStartInfo(File.Exists(host) ? host : "dotnet", [dll, .. arguments]);
    }

    /// <summary>The dll given on the command line, else the one the bench's build recorded (same configuration as the bench).</summary>
    private static string DllPath(string? given, string metadataKey)
    {
        var path = given ?? typeof(Targets).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == metadataKey)?.Value
            ?? throw new InvalidOperationException($"The bench was built without its {metadataKey} path.");
        path = Path.GetFullPath(path);
        return File.Exists(path) ? path : throw new InvalidOperationException($"{path} does not exist: build it first (dotnet build -c Release), or pass its path.");
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, name))
            .FirstOrDefault(File.Exists);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
