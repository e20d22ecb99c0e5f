using System.CommandLine;
using SessionMesh.Cli.Output;
using SessionMesh.Contracts;

namespace SessionMesh.Cli.Commands;

/// <summary><c>session-mesh unregister</c>: remove a specialization from an agent.</summary>
internal static class UnregisterCommand
{
    public static Command Create(CliApp app)
    {
        var spec = new Option<string>("--spec", "--specialization") { Description = "The specialization", HelpName = "SPEC", Required = true };
        var agentId = new Option<string>("--agent-id") { Description = "The agent", HelpName = "ID", Required = true };
        var command = new Command("unregister", "Remove a specialization from an agent.") { spec, agentId };
        app.Examples(command, "session-mesh unregister --spec data-analysis --agent-id 789");
        app.SetAction(command, async (context, parseResult, cancellationToken) =>
        {
            using var client = context.CreateClient();
            var result = await client.UnregisterAsync(parseResult.GetRequiredValue(agentId), parseResult.GetRequiredValue(spec), cancellationToken);
            if (context.Json)
            {
                context.Write(result, MeshJsonContext.Default.UnregisterResponse);
            }
            else
            {
                context.Out.WriteLine(result.Removed
                    ? $"Unregistered {result.Specialization} from agent {result.AgentId}."
                    : $"Agent {result.AgentId} was not registered for {result.Specialization}; nothing changed.");
            }
            return ExitCodes.Ok;
        });
        return command;
    }
}
