using System.CommandLine;

namespace SessionMesh.Cli.Commands;

/// <summary><c>session-mesh completion bash|zsh|fish|powershell</c>: prints a script wiring the shell to the parser's own suggestions.</summary>
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

    private const string Fish = """
        # session-mesh fish completion: add to ~/.config/fish/config.fish:  session-mesh completion fish | source
        function __session_mesh_complete
            set -l line (commandline -cp)
            session-mesh "[suggest:"(string length -- "$line")"]" "$line" 2>/dev/null
        end
        complete -c session-mesh -f -a '(__session_mesh_complete)'
        """;

    private const string PowerShell = """
        # session-mesh PowerShell completion: add to $PROFILE:  session-mesh completion powershell | Out-String | Invoke-Expression
        Register-ArgumentCompleter -Native -CommandName session-mesh -ScriptBlock {
            param($wordToComplete, $commandAst, $cursorPosition)
            $line = $commandAst.ToString()
            $position = $cursorPosition - $commandAst.Extent.StartOffset
            session-mesh "[suggest:$position]" "$line" 2>$null | ForEach-Object {
                [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_)
            }
        }
        """;

    private static readonly Dictionary<string, string> s_scripts = new(StringComparer.Ordinal)
    {
        ["bash"] = Bash,
        ["zsh"] = Zsh,
        ["fish"] = Fish,
        ["powershell"] = PowerShell,
    };

    public static Command Create(CliApp app)
    {
        var shell = new Argument<string>("shell") { Description = "bash, zsh, fish or powershell" };
        shell.AcceptOnlyFromAmong([.. s_scripts.Keys]);
        var command = new Command("completion", "Print a shell completion script: commands, options, and agent ids from the server.") { shell };
        app.Examples(command,
            "source <(session-mesh completion bash)",
            "source <(session-mesh completion zsh)",
            "session-mesh completion fish | source",
            "session-mesh completion powershell | Out-String | Invoke-Expression");
        command.SetAction(parseResult =>
        {
            app.Console.Out.WriteLine(s_scripts[parseResult.GetRequiredValue(shell)]);
            return ExitCodes.Ok;
        });
        return command;
    }
}
