using System.CommandLine;

namespace SessionMesh.Cli.Commands;

/// <summary>A command this build does not ship yet: says so, exit 1, instead of an "unknown command".</summary>
internal static class NotYetCommand
{
    public static Command Create(CliApp app, string name, string description)
    {
        var command = new Command(name, description) { TreatUnmatchedTokensAsErrors = false };
        command.SetAction(parseResult =>
        {
            app.Console.Error.WriteLine($"session-mesh: `{name}` is not yet available in this build.");
            return ExitCodes.Error;
        });
        return command;
    }
}
