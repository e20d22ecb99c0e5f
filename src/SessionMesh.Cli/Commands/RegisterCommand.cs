using System.CommandLine;
using SessionMesh.Cli.Config;
using SessionMesh.Cli.Output;
using SessionMesh.Contracts;

namespace SessionMesh.Cli.Commands;

/// <summary><c>session-mesh register</c>: register an agent's specialization.</summary>
internal static class RegisterCommand
{
    public static Command Create(CliApp app)
    {
        var spec = new Option<string?>("--spec", "--specialization") { Description = "The specialization, e.g. data-analysis", HelpName = "SPEC" };
        var agentId = new Option<string?>("--agent-id") { Description = "The agent that has it (created, not alive, if it never joined)", HelpName = "ID" };
        var description = new Option<string?>("--description") { Description = "What the agent does with it", HelpName = "TEXT" };
        var tag = new Option<string[]>("--tag") { Description = "A tag (repeatable)", HelpName = "TAG" };
        var version = new Option<string?>("--version") { Description = "Version of the capability", HelpName = "VERSION" };
        var config = new Option<string?>("--config") { Description = "YAML file with spec:, agent-id:, description:, tags: (flags override it)", HelpName = "FILE" };

        var command = new Command("register", "Register a specialization for an agent, so registry lookups find it.")
        {
            spec, agentId, description, tag, version, config,
        };
        app.Examples(command,
            "session-mesh register --spec \"data-analysis\" --agent-id 789",
            "session-mesh register --spec image-processing --agent-id 123 --description \"resizes and crops\" --tag gpu --tag batch",
            "session-mesh register --config spec.yaml",
            "session-mesh register --config spec.yaml --agent-id 790");
        app.SetAction(command, async (context, parseResult, cancellationToken) =>
        {
            var file = parseResult.GetValue(config) is { } path ? SpecFile.Load(path) : new SpecFile();
            var tags = parseResult.GetValue(tag) is { Length: > 0 } t ? t.ToList() : file.Tags;
            var request = new RegisterRequest
            {
                Specialization = parseResult.GetValue(spec) ?? file.Spec,
                AgentId = parseResult.GetValue(agentId) ?? file.AgentId,
                Description = parseResult.GetValue(description) ?? file.Description,
                Tags = tags,
                Version = parseResult.GetValue(version) ?? file.Version,
            };
            if (request.Specialization is null || request.AgentId is null)
            {
                throw CliException.Usage("register needs --spec and --agent-id (or a --config file with spec: and agent-id:)");
            }
            using var client = context.CreateClient();
            var result = await client.RegisterAsync(request, cancellationToken);
            if (context.Json)
            {
                context.Write(result.Entry, MeshJsonContext.Default.RegistryEntry);
                return ExitCodes.Ok;
            }
            var entry = result.Entry;
            var style = context.Style;
            context.Out.WriteLine(result.Created
                ? $"Registered agent {style.Bold(entry.AgentId)} for {style.Cyan(entry.Specialization)}{(entry.Alive ? "" : " (not alive yet)")}."
                : result.Changed
                    ? $"Updated the registration of agent {style.Bold(entry.AgentId)} for {style.Cyan(entry.Specialization)}."
                    : $"Agent {style.Bold(entry.AgentId)} was already registered for {style.Cyan(entry.Specialization)}; nothing changed.");
            return ExitCodes.Ok;
        });
        return command;
    }
}
