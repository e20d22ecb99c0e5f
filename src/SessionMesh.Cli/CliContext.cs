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
    public const string CaCertVariable = "SESSION_MESH_CA_CERT";

    private CliContext(CliConsole console, IReadOnlyList<Uri> servers, string? cluster, OutputFormat format, bool formatAsked, bool verbose, string? caCertificateFile)
    {
        CaCertificateFile = caCertificateFile;
        Console = console;
        Server = servers[0];
        FailoverServers = [.. servers.Skip(1)];
        Cluster = cluster;
        Format = format;
        FormatAsked = formatAsked;
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
    /// <summary>The replicas after the first in a comma-separated --server, tried in turn when one cannot be reached.</summary>
    public IReadOnlyList<Uri> FailoverServers { get; }
    /// <summary>The CA file an https server's certificate must chain to (--ca-cert, SESSION_MESH_CA_CERT); null for the system's roots.</summary>
    public string? CaCertificateFile { get; }
    public string? Cluster { get; }
    /// <summary>The output shape: as asked with --output, else a table on a terminal and JSON when piped.</summary>
    public OutputFormat Format { get; }
    /// <summary>True when --output was given (not defaulted from whether stdout is a terminal).</summary>
    public bool FormatAsked { get; }
    /// <summary>Data for programs (JSON or YAML) rather than tables for people.</summary>
    public bool Json => Format is OutputFormat.Json or OutputFormat.Yaml;
    /// <summary>Tables with their extra columns (<c>--output wide</c>).</summary>
    public bool Wide => Format == OutputFormat.Wide;
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
        var servers = ParseServers(serverText);
        var output = parseResult.GetValue(options.Output);
        var format = output is null ? (console.IsOutputTerminal ? OutputFormat.Table : OutputFormat.Json) : OutputFormats.Parse(output);
        var caCert = parseResult.GetValue(options.CaCert) ?? console.GetEnvironmentVariable(CaCertVariable);
        if (caCert is { Length: > 0 } && !File.Exists(caCert))
        {
            throw CliException.Usage($"--ca-cert '{caCert}': no such file (a PEM certificate, e.g. the one serve was given with --tls-cert)");
        }
        return new CliContext(console, servers, parseResult.GetValue(options.Cluster), format, output is not null, parseResult.GetValue(options.Verbose), caCert is { Length: > 0 } ? caCert : null);
    }

    /// <summary>One server address, or several replicas of one mesh separated by commas.</summary>
    private static List<Uri> ParseServers(string serverText)
    {
        var servers = new List<Uri>();
        foreach (var text in serverText.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!Uri.TryCreate(text, UriKind.Absolute, out var server) || (server.Scheme != Uri.UriSchemeHttp && server.Scheme != Uri.UriSchemeHttps))
            {
                var example = servers.Count == 0 && !serverText.Contains(',') ? "http://127.0.0.1:7780" : "http://10.0.0.1:7780,http://10.0.0.2:7780";
                throw CliException.Usage($"--server '{text}' is not an http(s) URL, e.g. {example}");
            }
            servers.Add(server);
        }
        return servers;
    }

    /// <summary>Writes a value as JSON or YAML, as <c>--output</c> asks; <paramref name="indented"/> false makes one line of a stream.</summary>
    public void Write<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> info, bool indented = true)
    {
        if (Format == OutputFormat.Yaml)
        {
            Yaml.Write(Out, value, info, stream: !indented);
        }
        else
        {
            Output.Json.Write(Out, value, info, indented);
        }
    }

    /// <summary>A client with the key from SESSION_API_KEY; fails with a one-line hint when it is not set.</summary>
    public SessionMeshClient CreateClient(string? clusterOverride = null)
    {
        // A key file saved on Windows, or a variable set from one, ends in CR LF: the key is what is between the blanks.
        var key = Console.GetEnvironmentVariable(KeyVariable)?.Trim();
        if (key is not { Length: > 0 })
        {
            throw CliException.MissingKey();
        }
        var options = new SessionMeshClientOptions
        {
            Server = Server,
            FailoverServers = [.. FailoverServers],
            SessionKey = key,
            Cluster = Cluster ?? clusterOverride,
            MintingKey = Console.GetEnvironmentVariable(MintingKeyVariable)?.Trim() is { Length: > 0 } minting ? minting : null,
            CaCertificateFile = CaCertificateFile,
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
