using System.CommandLine;

namespace SessionMesh.Cli.Commands;

/// <summary><c>session-mesh completion bash|zsh</c>: prints a script wiring the shell to the parser's own suggestions.</summary>
internal static class CompletionCommand
{
    private const string Bash = """
        # session-mesh bash completion: add to ~/.bashrc:  source <(session-mesh completion bash)
        _session_mesh_complete() {
            local IFS=$'\n'
            COMPREPLY=( $(session-mesh "[suggest:${COMP_POINT}]" "${COMP_LINE}" 2>/dev/null) )
        }
        complete -o default -F _session_mesh_complete session-mesh
        """;

    private const string Zsh = """
        # session-mesh zsh completion: add to ~/.zshrc:  source <(session-mesh completion zsh)
        _session_mesh_complete() {
            local -a completions
            completions=("${(@f)$(session-mesh "[suggest:${#BUFFER}]" "${BUFFER}" 2>/dev/null)}")
            compadd -a completions
        }
        compdef _session_mesh_complete session-mesh
        """;

    public static Command Create(CliApp app)
    {
        var shell = new Argument<string>("shell") { Description = "bash or zsh" };
        shell.AcceptOnlyFromAmong("bash", "zsh");
        var command = new Command("completion", "Print a shell completion script.") { shell };
        app.Examples(command, "source <(session-mesh completion bash)", "source <(session-mesh completion zsh)");
        command.SetAction(parseResult =>
        {
            app.Console.Out.WriteLine(parseResult.GetRequiredValue(shell) == "bash" ? Bash : Zsh);
            return ExitCodes.Ok;
        });
        return command;
    }
}
