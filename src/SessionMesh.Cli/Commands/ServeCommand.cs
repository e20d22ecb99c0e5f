using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using SessionMesh.Server;
using SessionMesh.Server.Hosting;
using SessionMesh.Store.Postgres;
using SessionMesh.Store.Sqlite;

namespace SessionMesh.Cli.Commands;

/// <summary><c>session-mesh serve</c>: runs the mesh server in this process.</summary>
internal static partial class ServeCommand
{
    public const string Name = "serve";

    public static Command Create(CliApp app)
    {
        var listen = new Option<string?>("--listen") { Description = "Address to listen on (default http://127.0.0.1:7780; port 0 picks a free one)", HelpName = "URL" };
        var store = new Option<string?>("--store") { Description = "sqlite:PATH (default: session-mesh.db in the data directory), or a PostgreSQL connection string \"Host=...;Database=...\" shared by replicas", HelpName = "STORE" };
        var dataDir = new Option<string?>("--data-dir") { Description = "Directory for the database file and the generated root key (default ./session-mesh-data)", HelpName = "DIR" };
        var tlsCert = new Option<string?>("--tls-cert") { Description = "HTTPS certificate: a PEM file (with its key, or see --tls-key) or a .pfx/.p12 file; serves the https:// --listen addresses (env SESSION_MESH_TLS_CERT; password in SESSION_MESH_TLS_PASSWORD)", HelpName = "FILE" };
        var tlsKey = new Option<string?>("--tls-key") { Description = "PEM private key of --tls-cert, when in a file of its own (env SESSION_MESH_TLS_KEY)", HelpName = "FILE" };
        var logFormat = new Option<string?>("--log-format") { Description = "Console log format: text or json", HelpName = "text|json" };
        logFormat.AcceptOnlyFromAmong("text", "json");
        var sandbox = new Option<bool>("--sandbox") { Description = "Sandbox mode for your integration tests: a throwaway store (deleted at exit), a printed root key, a free port, fault injection" };
        var faults = new Option<string?>("--faults") { Description = "Sandbox fault rates (kinds 5xx, 401, 429, latency, drop-stream), e.g. \"5xx=0.1,latency=20ms-200ms,drop-stream=0.05\"", HelpName = "SPEC" };

        var command = new Command(Name, "Run the session-mesh server. Extra --Section:Key=value arguments go to the server's configuration.")
        {
            listen, store, dataDir, tlsCert, tlsKey, logFormat, sandbox, faults,
        };
        // Left unmatched so --Section:Key=value reaches the server's configuration; anything else is refused below.
        command.TreatUnmatchedTokensAsErrors = false;
        app.Examples(command,
            "session-mesh serve",
            "session-mesh serve --listen http://127.0.0.1:7780 --store sqlite:./session-mesh.db --data-dir ./data",
            "session-mesh serve --listen https://0.0.0.0:7780 --tls-cert mesh.crt --tls-key mesh.key",
            "session-mesh serve --sandbox --listen http://127.0.0.1:0 --faults \"5xx=0.1,latency=20ms-200ms\"");
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            if (parseResult.UnmatchedTokens.FirstOrDefault(token => !IsConfigurationArgument(token)) is { } unknown)
            {
                // A misspelt --listen or --sandbox must not start an ordinary server on the defaults.
                await app.Console.Error.WriteLineAsync(CliApp.UnknownToken(command, "session-mesh serve", unknown));
                await app.Console.Error.WriteLineAsync("Server settings take the form --Section:Key=value. Run 'session-mesh serve --help' for usage and examples.");
                return ExitCodes.Usage;
            }
            if (parseResult.GetValue(faults) is not null && !parseResult.GetValue(sandbox))
            {
                await app.Console.Error.WriteLineAsync("session-mesh: --faults needs --sandbox: fault injection is never available outside sandbox mode.");
                return ExitCodes.Usage;
            }
            var settings = ToSettings(parseResult);
            if (BusyAddress(settings.Listen ?? Environment.GetEnvironmentVariable("SESSION_MESH_LISTEN")) is { } busy)
            {
                // Kestrel would log ~3 KB of stack for this before the host's one-line message: say it once, first.
                await app.Console.Error.WriteLineAsync($"session-mesh: cannot listen on {busy}: address already in use (another session-mesh serve?). Stop that process or choose another address with --listen.");
                return ExitCodes.Error;
            }
            return await ServerHost.RunAsync(settings, cancellationToken);
        });
        return command;
    }

    /// <summary>The first of the --listen addresses (';'-separated) whose port another process already holds, or null.</summary>
    internal static string? BusyAddress(string? listen)
    {
        foreach (var address in (listen ?? "http://127.0.0.1:7780").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var normalized = address.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal);
            if (!Uri.TryCreate(normalized, UriKind.Absolute, out var uri) || uri.Port <= 0)
            {
                continue; // port 0, or not a URL: Kestrel reports it
            }
            var ip = uri.IsLoopback && !System.Net.IPAddress.TryParse(uri.DnsSafeHost, out _) ? System.Net.IPAddress.Loopback
                : System.Net.IPAddress.TryParse(uri.DnsSafeHost, out var parsed) ? parsed : null;
            if (ip is null)
            {
                continue;
            }
            var probe = new System.Net.Sockets.TcpListener(ip, uri.Port);
            try
            {
                probe.Start();
            }
            catch (System.Net.Sockets.SocketException ex) when (ex.SocketErrorCode == System.Net.Sockets.SocketError.AddressAlreadyInUse)
            {
                return address;
            }
            catch (System.Net.Sockets.SocketException)
            {
                // Not ours to judge (no such interface, no permission): Kestrel says so.
            }
            finally
            {
                probe.Stop();
            }
        }
        return null;
    }

    /// <summary>The documented form of a server setting: <c>--Section:Key=value</c> (nested keys allowed).</summary>
    internal static bool IsConfigurationArgument(string token) => ConfigurationArgument().IsMatch(token);

    [System.Text.RegularExpressions.GeneratedRegex(@"^--[A-Za-z][A-Za-z0-9_]*(:[A-Za-z0-9_]+)+=", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex ConfigurationArgument();

    /// <summary>Maps the parsed flags of <c>serve</c> onto <see cref="ServeSettings"/>.</summary>
    internal static ServeSettings ToSettings(ParseResult parseResult) => new()
    {
        Listen = parseResult.GetValue<string?>("--listen"),
        Store = parseResult.GetValue<string?>("--store"),
        DataDir = parseResult.GetValue<string?>("--data-dir"),
        TlsCertificate = parseResult.GetValue<string?>("--tls-cert"),
        TlsKey = parseResult.GetValue<string?>("--tls-key"),
        JsonLogs = parseResult.GetValue<string?>("--log-format") == "json",
        Sandbox = parseResult.GetValue<bool>("--sandbox"),
        Faults = parseResult.GetValue<string?>("--faults"),
        ConfigurationArgs = [.. parseResult.UnmatchedTokens],
        UseStore = UseStore,
    };

    /// <summary>
    /// The store of <c>serve</c>, from <c>--store</c> / <c>SESSION_MESH_STORE</c> / <c>Server:Store</c>: a PostgreSQL
    /// connection string (<c>Host=...;Database=...</c>, shared by replicas), else SQLite, by default
    /// <c>session-mesh.db</c> in the data directory (the throwaway one in sandbox mode). Also the test host's store.
    /// </summary>
    internal static void UseStore(ISessionMeshBuilder mesh, MeshServerOptions options)
    {
        if (PostgresStoreSetting.IsPostgres(options.Store))
        {
            mesh.UsePostgres(options.Store!.Trim());
        }
        else
        {
            mesh.UseSqlite(SqliteStoreSetting.ToDataSource(options.Store, options.DataDir));
        }
    }
}
