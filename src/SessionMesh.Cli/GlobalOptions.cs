using System.CommandLine;

namespace SessionMesh.Cli;

/// <summary>The options every command takes.</summary>
internal sealed class GlobalOptions
{
    public Option<string?> Server { get; } = new("--server")
    {
        Description = "Server address (env SESSION_MESH_URL; default http://127.0.0.1:7780)",
        HelpName = "URL",
        Recursive = true,
    };

    public Option<string?> Output { get; } = new("--output", "-o")
    {
        Description = "Output format: table (default on a terminal) or json (default when piped)",
        HelpName = "table|json",
        Recursive = true,
    };

    public Option<bool> Verbose { get; } = new("--verbose", "-v")
    {
        Description = "Log each request, its status and timing to stderr (keys masked)",
        Recursive = true,
    };

    public Option<string?> Cluster { get; } = new("--cluster")
    {
        Description = "Cluster (namespace) to act in; default: the key's",
        HelpName = "NAME",
        Recursive = true,
    };

    public GlobalOptions()
    {
        Output.AcceptOnlyFromAmong("table", "json");
    }

    public void AddTo(Command root)
    {
        root.Options.Add(Server);
        root.Options.Add(Output);
        root.Options.Add(Verbose);
        root.Options.Add(Cluster);
    }
}
