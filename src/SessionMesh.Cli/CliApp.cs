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
        Root.Subcommands.Add(ServeCommand.Create(this));
        Root.Subcommands.Add(ListCommand.Create(this));
        Root.Subcommands.Add(SteerCommand.Create(this));
        Root.Subcommands.Add(KillCommand.Create(this));
        Root.Subcommands.Add(RegisterCommand.Create(this));
        Root.Subcommands.Add(UnregisterCommand.Create(this));
        Root.Subcommands.Add(LoadConfigCommand.Create(this));
        Root.Subcommands.Add(KeysCommand.Create(this));
        Root.Subcommands.Add(WebhooksCommand.Create(this));
        Root.Subcommands.Add(TopologyCommand.Create(this));
        Root.Subcommands.Add(UsageCommand.Create(this));
        Root.Subcommands.Add(WatchCommand.Create(this));
        Root.Subcommands.Add(GetCommand.Create(this));
        Root.Subcommands.Add(RegistryCommand.Create(this));
        Root.Subcommands.Add(MessageCommand.Create(this));
        Root.Subcommands.Add(CommandsCommand.CreateList(this));
        Root.Subcommands.Add(CommandsCommand.CreateGet(this));
        Root.Subcommands.Add(AuditCommand.Create(this));
        Root.Subcommands.Add(CompletionCommand.Create(this));
        Root.Subcommands.Add(Agent.AgentCommand.Create(this));
        Root.Subcommands.Add(LockCommand.Create(this));
        Root.Subcommands.Add(LockCommand.CreateList(this));
        Root.Subcommands.Add(LogsCommand.Create(this));
        Root.Subcommands.Add(McpCommand.Create(this));
        foreach (var client in Root.Subcommands.Where(c => c.Name != ServeCommand.Name))
        {
            Globals.AddTo(client);
        }
        AgentIdCompletion.AddTo(Root, this);
        Root.Options.Add(Globals.Server);
        Root.Options.Add(Globals.Output);
        Root.Options.Add(Globals.Verbose);
        Root.Options.Add(Globals.Cluster);
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
        try
        {
            var app = new CliApp(console);
            var parseResult = app.Root.Parse(args);
            // Unexpected exceptions reach the last-resort handler below, not System.CommandLine's stack-trace printer.
            var configuration = new InvocationConfiguration { Output = console.Out, Error = console.Error, EnableDefaultExceptionHandler = false };
            if (parseResult.CommandResult.Command.Name is Agent.AgentCommand.Name or LockCommand.Name)
            {
                // The wrapper handles SIGINT and SIGTERM itself: it stops its child's tree (grace period included) and
                // leaves before exiting, which the default handler's short timeout would cut off.
                configuration.ProcessTerminationTimeout = null;
            }
            if (parseResult.Errors.Count > 0 && parseResult.Action is ParseErrorAction)
            {
                await app.WriteParseErrorsAsync(parseResult);
                return ExitCodes.Usage;
            }
            return await parseResult.InvokeAsync(configuration, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return 130;
        }
        catch (Exception ex)
        {
            // Last resort: a bug, not a usage or server problem. One line; the stack only when asked for.
            await console.Error.WriteLineAsync($"session-mesh: error: unexpected {ex.GetType().Name}: {ex.Message} (this is a bug; run again with --verbose for the stack trace)");
            if (args.Contains("--verbose") || args.Contains("-v"))
            {
                await console.Error.WriteLineAsync(ex.ToString());
            }
            return ExitCodes.Error;
        }
    }

    /// <summary>One line per parse error; a mistyped command or flag gets the closest name the command accepts.</summary>
    private async Task WriteParseErrorsAsync(ParseResult parseResult)
    {
        var command = parseResult.CommandResult.Command;
        var unmatched = parseResult.UnmatchedTokens.ToHashSet(StringComparer.Ordinal);
        foreach (var error in parseResult.Errors)
        {
            // "Unrecognized command or argument 'x'." is said below, token by token, with a suggestion.
            if (unmatched.Any(token => error.Message.Contains($"'{token}'", StringComparison.Ordinal) && error.Message.StartsWith("Unrecognized", StringComparison.Ordinal)))
            {
                continue;
            }
            await Console.Error.WriteLineAsync($"session-mesh: {error.Message}");
        }
        var path = string.Join(' ', CommandPath(command));
        string? previous = null;
        foreach (var token in parseResult.UnmatchedTokens)
        {
            // "--fitler alive": 'alive' is the unknown option's value, not a second mistake.
            if (!(previous is { } option && option.StartsWith('-') && !option.Contains('=', StringComparison.Ordinal) && !token.StartsWith('-')))
            {
                await Console.Error.WriteLineAsync(UnknownToken(command, path, token));
            }
            previous = token;
        }
        await Console.Error.WriteLineAsync($"Run '{path} --help' for usage and examples.");
    }

    /// <summary>"unknown option '--x' for 'session-mesh list'. Did you mean '--y'?"</summary>
    internal static string UnknownToken(Command command, string path, string token) => token.StartsWith('-')
        ? $"session-mesh: unknown option '{token}' for '{path}'.{Suggestions.DidYouMean(command, token)}"
        : $"session-mesh: unknown command or argument '{token}' for '{path}'.{Suggestions.DidYouMean(command, token)}";

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
            catch (Config.ConfigException ex)
            {
                // Compiler-style lines an editor can jump to, then the one thing that matters: nothing changed.
                var style = new Output.Ansi(Console.IsErrorTerminal && Console.GetEnvironmentVariable("NO_COLOR") is not { Length: > 0 });
                foreach (var error in ex.Errors)
                {
                    Console.Error.WriteLine($"{error.File}:{error.Line}:{error.Column}: {style.Red("error:")} {error.Message}");
                }
                var file = ex.Errors[0].File;
                Console.Error.WriteLine($"session-mesh: {file} has {ex.Errors.Count} error{(ex.Errors.Count == 1 ? "" : "s")}; nothing was applied.");
                return ExitCodes.Error;
            }
            catch (SessionMeshConnectionException ex)
            {
                return Fail(ExitCodes.Unreachable, ErrorMessages.Describe(ex));
            }
            catch (SessionMeshException ex)
            {
                return Fail(ErrorMessages.ExitCodeFor(ex), ErrorMessages.Describe(ex, context?.Server ?? SessionMeshClientOptions.DefaultServer));
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

    internal static IEnumerable<string> CommandPath(Command command)
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
