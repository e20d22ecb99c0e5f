using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using SessionMesh.Cli.Commands;
using SessionMesh.Client;

namespace SessionMesh.Cli;

/// <summary>The `session-mesh` command line: builds the command tree, runs one invocation, maps failures to exit codes.</summary>
internal sealed class CliApp
{
    private readonly Dictionary<Command, string[]> _examples = [];

    private CliApp(CliConsole console)
    {
        Console = console;
        Root = new RootCommand("session-mesh: a control plane for fleets of live agent sessions — discover, register, steer, kill, and manage keys.");
        Globals.AddTo(Root);
        Root.Subcommands.Add(ServeCommand.Create(this));
        Root.Subcommands.Add(ListCommand.Create(this));
        Root.Subcommands.Add(SteerCommand.Create(this));
        Root.Subcommands.Add(KillCommand.Create(this));
        Root.Subcommands.Add(RegisterCommand.Create(this));
        Root.Subcommands.Add(UnregisterCommand.Create(this));
        Root.Subcommands.Add(LoadConfigCommand.Create(this));
        Root.Subcommands.Add(KeysCommand.Create(this));
        Root.Subcommands.Add(TopologyCommand.Create(this));
        Root.Subcommands.Add(WatchCommand.Create(this));
        Root.Subcommands.Add(CompletionCommand.Create(this));
        Root.Subcommands.Add(NotYetCommand.Create(this, "agent", "Join as an agent and run a command as its child (not yet available in this build)"));
        Root.Subcommands.Add(NotYetCommand.Create(this, "mcp", "Serve the mesh as MCP tools over stdio (not yet available in this build)"));
        Examples(Root,
            "export SESSION_API_KEY=<key>",
            "session-mesh list --filter alive --output json",
            "session-mesh steer --agent-id 123 --direction west",
            "session-mesh kill --agent-id 456 --force",
            "session-mesh register --spec \"data-analysis\" --agent-id 789",
            "session-mesh load-config path/to/config.yaml",
            "session-mesh list --filter alive --verbose");
        Root.SetAction(parseResult =>
        {
            new HelpAction().Invoke(parseResult);
            return ExitCodes.Usage;
        });
        if (Root.Options.OfType<HelpOption>().FirstOrDefault() is { Action: HelpAction help } helpOption)
        {
            helpOption.Action = new ExamplesHelpAction(help, _examples);
        }
    }

    public CliConsole Console { get; }

    public RootCommand Root { get; }

    public GlobalOptions Globals { get; } = new();

    /// <summary>Parses without running (tests).</summary>
    public static ParseResult Parse(string[] args, CliConsole console) => new CliApp(console).Root.Parse(args);

    public static async Task<int> RunAsync(string[] args, CliConsole console, CancellationToken cancellationToken)
    {
        var app = new CliApp(console);
        var parseResult = app.Root.Parse(args);
        var configuration = new InvocationConfiguration { Output = console.Out, Error = console.Error };
        if (parseResult.Errors.Count > 0 && parseResult.Action is ParseErrorAction)
        {
            foreach (var error in parseResult.Errors)
            {
                await console.Error.WriteLineAsync($"session-mesh: {error.Message}");
            }
            var command = string.Join(' ', CommandPath(parseResult.CommandResult.Command));
            await console.Error.WriteLineAsync($"Run '{command} --help' for usage and examples.");
            return ExitCodes.Usage;
        }
        return await parseResult.InvokeAsync(configuration, cancellationToken);
    }

    /// <summary>Registers the examples shown under "Examples:" in a command's help.</summary>
    public void Examples(Command command, params string[] lines) => _examples[command] = lines;

    /// <summary>Sets a command's action: resolves the context, runs, and turns failures into one line and an exit code.</summary>
    public void SetAction(Command command, Func<CliContext, ParseResult, CancellationToken, Task<int>> action) =>
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            CliContext? context = null;
            try
            {
                context = CliContext.From(parseResult, Globals, Console);
                return await action(context, parseResult, cancellationToken);
            }
            catch (CliException ex)
            {
                return Fail(ex.ExitCode, ex.Message);
            }
            catch (SessionMeshConnectionException ex)
            {
                return Fail(ExitCodes.Unreachable,
                    $"{ex.Message}. Is the server running? Start one with `session-mesh serve`, or point --server / {CliContext.ServerVariable} at it.");
            }
            catch (SessionMeshException ex)
            {
                return Fail(ErrorMessages.ExitCodeFor(ex), ErrorMessages.Describe(ex));
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return 130;
            }
        });

    private int Fail(int exitCode, string message)
    {
        var style = new Output.Ansi(Console.IsErrorTerminal && Console.GetEnvironmentVariable("NO_COLOR") is not { Length: > 0 });
        Console.Error.WriteLine($"session-mesh: {style.Red("error:")} {message}");
        return exitCode;
    }

    private static IEnumerable<string> CommandPath(Command command)
    {
        var names = new List<string>();
        for (var current = command; current is not null; current = current.Parents.OfType<Command>().FirstOrDefault())
        {
            names.Insert(0, current is RootCommand ? "session-mesh" : current.Name);
        }
        return names;
    }

    /// <summary>The default help, followed by the command's examples.</summary>
    private sealed class ExamplesHelpAction(HelpAction inner, Dictionary<Command, string[]> examples) : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            var result = inner.Invoke(parseResult);
            if (examples.TryGetValue(parseResult.CommandResult.Command, out var lines))
            {
                var output = parseResult.InvocationConfiguration.Output;
                output.WriteLine("Examples:");
                foreach (var line in lines)
                {
                    output.WriteLine($"  {line}");
                }
                output.WriteLine();
            }
            return result;
        }
    }
}
