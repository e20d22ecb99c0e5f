using System.CommandLine;
using SessionMesh.Cli.Config;
using SessionMesh.Cli.Output;

namespace SessionMesh.Cli.Commands;

/// <summary><c>session-mesh load-config</c>: apply a YAML description of a fleet, idempotently.</summary>
internal static class LoadConfigCommand
{
    public static Command Create(CliApp app)
    {
        var path = new Argument<string>("path") { Description = "The YAML file" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Print the plan; change nothing" };
        var command = new Command("load-config", "Apply a YAML config (agents, specializations, keys, the default list filter) like `kubectl apply`: again and again, changing only what differs.")
        {
            path, dryRun,
        };
        app.Examples(command,
            "session-mesh load-config path/to/config.yaml",
            "session-mesh load-config fleet.yaml --dry-run",
            "session-mesh load-config fleet.yaml --output json");
        app.SetAction(command, async (context, parseResult, cancellationToken) =>
        {
            var file = parseResult.GetRequiredValue(path);
            var config = MeshConfigLoader.Load(file);
            using var client = context.CreateClient(config.Cluster);
            var planner = new ConfigPlanner(client, context.Settings);
            await planner.PlanAsync(config, cancellationToken);
            var dry = parseResult.GetValue(dryRun);
            if (!dry)
            {
                await planner.ApplyAsync(cancellationToken);
            }
            var result = new LoadConfigResult
            {
                File = file,
                Cluster = context.Cluster ?? config.Cluster,
                DryRun = dry,
                Actions = planner.Actions.ToList(),
                MintedKeys = planner.Minted.ToList(),
            };
            if (context.Json)
            {
                context.Write(result, CliJsonContext.Default.LoadConfigResult);
            }
            else
            {
                Print(context, result);
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    private static void Print(CliContext context, LoadConfigResult result)
    {
        var style = context.Style;
        context.Out.WriteLine(style.Bold($"{(result.DryRun ? "Plan" : "Applied")}: {result.File}{(result.Cluster is null ? "" : $" (cluster {result.Cluster})")}"));
        if (result.Actions.Count == 0)
        {
            context.Out.WriteLine("  nothing declared");
        }
        var table = new Table("", "KIND", "TARGET", "CHANGE", "DETAIL");
        foreach (var action in result.Actions)
        {
            var (mark, change) = action.Change switch
            {
                PlanChanges.Create => (style.Green("+"), style.Green(action.Change)),
                PlanChanges.Update => (style.Yellow("~"), style.Yellow(action.Change)),
                PlanChanges.Deferred => (style.Cyan("…"), style.Cyan(action.Change)),
                _ => (style.Dim("="), style.Dim(action.Change)),
            };
            table.Add(mark, action.Kind, action.Target, change, action.Detail);
        }
        if (table.Count > 0)
        {
            table.Write(context.Out, style);
        }
        var counts = result.Actions.GroupBy(a => a.Change).ToDictionary(g => g.Key, g => g.Count());
        int Count(string change) => counts.TryGetValue(change, out var n) ? n : 0;
        var deferred = Count(PlanChanges.Deferred) == 0 ? "" : $", {Count(PlanChanges.Deferred)} deferred until the agent joins";
        context.Out.WriteLine(result.DryRun
            ? $"Dry run: {Count(PlanChanges.Create)} to create, {Count(PlanChanges.Update)} to update, {Count(PlanChanges.Unchanged)} unchanged{deferred}; nothing applied."
            : $"Done: {Count(PlanChanges.Create)} created, {Count(PlanChanges.Update)} updated, {Count(PlanChanges.Unchanged)} unchanged{deferred}.");
        if (result.MintedKeys.Count > 0)
        {
            context.Out.WriteLine(style.Bold("Minted keys (the secret is shown only now):"));
            foreach (var key in result.MintedKeys)
            {
                context.Out.WriteLine($"  {key.Name}  {key.KeyId}  {key.SessionKey}");
            }
        }
    }
}
