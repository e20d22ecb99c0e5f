using System.CommandLine;
using SessionMesh.Cli.Config;
using SessionMesh.Cli.Output;
using SessionMesh.Client;

namespace SessionMesh.Cli;

/// <summary>Everything one command invocation needs: resolved global options, the console, a client on demand.</summary>
internal sealed class CliContext
{
    public const string KeyVariable = "SESSION_API_KEY";
    public const string ServerVariable = "SESSION_MESH_URL";
    public const string MintingKeyVariable = "SESSION_MESH_MINTING_KEY";

    private CliContext(CliConsole console, Uri server, string? cluster, bool json, bool verbose)
    {
        Console = console;
        Server = server;
        Cluster = cluster;
        Json = json;
        Verbose = verbose;
        var colorAllowed = console.GetEnvironmentVariable("NO_COLOR") is not { Length: > 0 } && console.GetEnvironmentVariable("TERM") != "dumb";
        Style = new Ansi(console.IsOutputTerminal && colorAllowed);
        ErrorStyle = new Ansi(console.IsErrorTerminal && colorAllowed);
        Settings = new CliSettingsStore(console.GetEnvironmentVariable);
    }

    public CliConsole Console { get; }
    public TextWriter Out => Console.Out;
    public TextWriter Error => Console.Error;
    public Uri Server { get; }
    public string? Cluster { get; }
    /// <summary>JSON output (asked for, or stdout is not a terminal); otherwise tables.</summary>
    public bool Json { get; }
    public bool Verbose { get; }
    public Ansi Style { get; }
    public Ansi ErrorStyle { get; }
    public CliSettingsStore Settings { get; }

    public static CliContext From(ParseResult parseResult, GlobalOptions options, CliConsole console)
    {
        var serverText = parseResult.GetValue(options.Server) ?? console.GetEnvironmentVariable(ServerVariable);
        if (serverText is not { Length: > 0 })
        {
            serverText = SessionMeshClientOptions.DefaultServer.OriginalString;
        }
        if (!Uri.TryCreate(serverText, UriKind.Absolute, out var server) || (server.Scheme != Uri.UriSchemeHttp && server.Scheme != Uri.UriSchemeHttps))
        {
            throw CliException.Usage($"--server '{serverText}' is not an http(s) URL, e.g. http://127.0.0.1:7780");
        }
        var output = parseResult.GetValue(options.Output);
        var json = output is null ? !console.IsOutputTerminal : output == "json";
        return new CliContext(console, server, parseResult.GetValue(options.Cluster), json, parseResult.GetValue(options.Verbose));
    }

    /// <summary>A client with the key from SESSION_API_KEY; fails with a one-line hint when it is not set.</summary>
    public SessionMeshClient CreateClient(string? clusterOverride = null)
    {
        var key = Console.GetEnvironmentVariable(KeyVariable);
        if (key is not { Length: > 0 })
        {
            throw CliException.MissingKey();
        }
        var options = new SessionMeshClientOptions
        {
            Server = Server,
            SessionKey = key,
            Cluster = Cluster ?? clusterOverride,
            MintingKey = Console.GetEnvironmentVariable(MintingKeyVariable) is { Length: > 0 } minting ? minting : null,
        };
        if (Verbose)
        {
            options.OnRequest = LogRequest;
            options.OnRetry = LogRetry;
        }
        return new SessionMeshClient(options);
    }

    public void Trace(string message)
    {
        if (Verbose)
        {
            Error.WriteLine(ErrorStyle.Dim($"[verbose] {message}"));
        }
    }

    private void LogRequest(MeshRequestLog log)
    {
        var outcome = log.Status is { } status ? status.ToString(System.Globalization.CultureInfo.InvariantCulture) : $"failed ({log.Error})";
        var key = log.MaskedKey is null ? "no key" : $"key {log.MaskedKey}";
        Trace($"{log.Method} {log.Uri} -> {outcome} in {log.Elapsed.TotalMilliseconds:0} ms ({key})");
    }

    private void LogRetry(MeshRetryLog log)
    {
        var cause = log.Status is { } status ? $"HTTP {status}" : log.Error ?? "error";
        Trace($"attempt {log.Attempt} failed ({cause}); retrying in {log.Delay.TotalMilliseconds:0} ms");
    }
}
