using System.CommandLine;
using SessionMesh.Cli.Output;

namespace SessionMesh.Cli;

/// <summary>The options every command takes.</summary>
internal sealed class GlobalOptions
{
    public Option<string?> Server { get; } = new("--server")
    {
        Description = "Server address, or replicas of one mesh separated by commas, tried in turn (env SESSION_MESH_URL; default http://127.0.0.1:7780)",
        HelpName = "URL[,URL...]",
    };

    public Option<string?> Output { get; } = new("--output", "-o")
    {
        Description = "Output format: table (default on a terminal), wide (a table with more columns), json (default when piped) or yaml",
        HelpName = "table|wide|json|yaml",
    };

    public Option<bool> Verbose { get; } = new("--verbose", "-v")
    {
        Description = "Log each request, its status and timing to stderr (keys masked); with an unexpected failure, its stack trace",
    };

    public Option<string?> Cluster { get; } = new("--cluster")
    {
        Description = "Cluster (namespace) to act in; default: the key's",
        HelpName = "NAME",
    };

    public Option<string?> CaCert { get; } = new("--ca-cert")
    {
        Description = "PEM file of the CA (or self-signed certificate) to trust for an https --server (env SESSION_MESH_CA_CERT)",
        HelpName = "FILE",
    };

    public GlobalOptions()
    {
        Output.AcceptOnlyFromAmong(OutputFormats.Names);
    }

    /// <summary>
    /// Adds the options to <paramref name="command"/> and every subcommand below it. Not <c>Recursive</c> on the root:
    /// <c>serve</c> is no client, so its help must not offer <c>--server</c> or <c>--output</c>.
    /// </summary>
    public void AddTo(Command command)
    {
        command.Options.Add(Server);
        command.Options.Add(Output);
        command.Options.Add(Verbose);
        command.Options.Add(Cluster);
        command.Options.Add(CaCert);
        foreach (var subcommand in command.Subcommands)
        {
            AddTo(subcommand);
        }
    }
}
