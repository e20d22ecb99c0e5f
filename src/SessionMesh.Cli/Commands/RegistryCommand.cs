using System.CommandLine;
using SessionMesh.Cli.Output;
using SessionMesh.Contracts;
using SessionMesh.Model;

namespace SessionMesh.Cli.Commands;

/// <summary><c>session-mesh registry find SPEC [--alive]</c> and <c>registry list</c>: who can do what.</summary>
internal static class RegistryCommand
{
    public static Command Create(CliApp app)
    {
        var registry = new Command("registry", "Look agents up by specialization.");
        registry.Subcommands.Add(FindCommand(app));
        registry.Subcommands.Add(ListCommand(app));
        app.Examples(registry, "session-mesh registry find image-processing --alive", "session-mesh registry list");
        registry.SetAction(parseResult =>
        {
            app.Console.Error.WriteLine("session-mesh: registry needs a subcommand: find SPEC or list. Run 'session-mesh registry --help'.");
            return ExitCodes.Usage;
        });
        return registry;
    }

    private static Command FindCommand(CliApp app)
    {
        var spec = new Argument<string>("specialization") { Description = "The specialization, e.g. image-processing", HelpName = "SPEC" };
        var alive = new Option<bool>("--alive") { Description = "Only agents with a live session" };
        var command = new Command("find", "Agents registered for a specialization: alive first, least loaded first.") { spec, alive };
        app.Examples(command, "session-mesh registry find image-processing --alive", "session-mesh registry find data-analysis --output json | jq -r '.items[0].agent_id'");
        app.SetAction(command, async (context, parseResult, cancellationToken) =>
        {
            using var client = context.CreateClient();
            var name = parseResult.GetRequiredValue(spec);
            var onlyAlive = parseResult.GetValue(alive) ? true : (bool?)null;
            var items = new List<RegistryEntry>();
            string? cursor = null;
            do
            {
                var page = await client.ListRegistryAsync(name, onlyAlive, 1000, cursor, cancellationToken);
                items.AddRange(page.Items);
                cursor = page.NextCursor;
            }
            while (cursor is not null);
            if (context.Json)
            {
                context.Write(new Page<RegistryEntry> { Items = items }, MeshJsonContext.Default.PageRegistryEntry);
                return ExitCodes.Ok;
            }
            if (items.Count == 0)
            {
                context.Out.WriteLine($"No {(onlyAlive is true ? "live " : "")}agent is registered for '{name}'. `session-mesh registry list` shows every specialization.");
                return ExitCodes.Ok;
            }
            var table = new Table(context.Wide ? ["AGENT", "STATUS", "LOAD", "VERSION", "TAGS", "DESCRIPTION", "SESSION", "REGISTERED"] : ["AGENT", "STATUS", "LOAD", "VERSION", "TAGS", "DESCRIPTION"]);
            foreach (var e in items)
            {
                string?[] row = [
                    context.Style.Bold(e.AgentId),
                    e.Status is { } s ? context.Style.Status(s.ToWire()) : context.Style.Dim("not joined"),
                    Times.Load(e.Load),
                    e.Version,
                    e.Tags.Count == 0 ? null : string.Join(",", e.Tags),
                    e.Description];
                table.Add(context.Wide ? [.. row, e.SessionId, Times.Stamp(e.RegisteredAt)] : row);
            }
            table.Write(context.Out, context.Style);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command ListCommand(CliApp app)
    {
        var command = new Command("list", "Every specialization, with how many agents have it and how many of them are alive.");
        app.Examples(command, "session-mesh registry list");
        app.SetAction(command, async (context, parseResult, cancellationToken) =>
        {
            using var client = context.CreateClient();
            var items = new List<SpecializationSummary>();
            string? cursor = null;
            do
            {
                var page = await client.ListSpecializationsAsync(1000, cursor, cancellationToken);
                items.AddRange(page.Items);
                cursor = page.NextCursor;
            }
            while (cursor is not null);
            if (context.Json)
            {
                context.Write(new Page<SpecializationSummary> { Items = items }, MeshJsonContext.Default.PageSpecializationSummary);
                return ExitCodes.Ok;
            }
            if (items.Count == 0)
            {
                context.Out.WriteLine("No specializations registered. Add one with `session-mesh register --spec NAME --agent-id ID`.");
                return ExitCodes.Ok;
            }
            var table = new Table("SPECIALIZATION", "AGENTS", "ALIVE");
            foreach (var s in items)
            {
                table.Add(context.Style.Cyan(s.Specialization), s.Agents.ToString(System.Globalization.CultureInfo.InvariantCulture), s.Alive.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
            table.Write(context.Out, context.Style);
            return ExitCodes.Ok;
        });
        return command;
    }
}
