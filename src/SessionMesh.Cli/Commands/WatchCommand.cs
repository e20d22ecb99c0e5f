using System.CommandLine;
using System.Globalization;
using SessionMesh.Cli.Output;
using SessionMesh.Client;
using SessionMesh.Contracts;

namespace SessionMesh.Cli.Commands;

/// <summary><c>session-mesh watch</c>: follow the event stream.</summary>
internal static class WatchCommand
{
    public static Command Create(CliApp app)
    {
        var since = new Option<long?>("--since") { Description = "Replay events after this revision first (default: only new events)", HelpName = "REV" };
        var type = new Option<string[]>("--type") { Description = "Only events whose type starts with this, e.g. session. or command.acked (repeatable)", HelpName = "PREFIX" };
        var count = new Option<int?>("--count") { Description = "Stop after this many events", HelpName = "N" };
        var command = new Command("watch", "Follow every state change as it happens (Ctrl+C to stop); reconnects and resumes by itself.") { since, type, count };
        app.Examples(command,
            "session-mesh watch",
            "session-mesh watch --since 0",
            "session-mesh watch --type session. --output json | jq .agent_id");
        app.SetAction(command, async (context, parseResult, cancellationToken) =>
        {
            var prefixes = parseResult.GetValue(type) ?? [];
            var max = parseResult.GetValue(count);
            var from = parseResult.GetValue(since);
            var seen = 0;
            using var client = context.CreateClient();
            var reconnector = new Reconnector(context);
            while (true)
            {
                try
                {
                    await foreach (var item in client.WatchEventsAsync(from, cancellationToken))
                    {
                        reconnector.Connected();
                        from = item.Revision;
                        if (prefixes.Length > 0 && !prefixes.Any(p => item.Type.StartsWith(p, StringComparison.Ordinal)))
                        {
                            continue;
                        }
                        Print(context, item);
                        if (++seen == max)
                        {
                            return ExitCodes.Ok;
                        }
                    }
                }
                catch (SessionMeshException ex) when (ex.Code == "revision_compacted")
                {
                    context.Error.WriteLine($"session-mesh: revision {from} is older than the retained history; watching from now (re-list with `session-mesh list`).");
                    from = null;
                }
                catch (Exception ex) when (Reconnector.IsTransient(ex, cancellationToken))
                {
                    try
                    {
                        await reconnector.WaitAsync(ex, from, cancellationToken);
                    }
                    catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                    {
                        return ExitCodes.Ok;
                    }
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    return ExitCodes.Ok;
                }
            }
        });
        return command;
    }

    private static void Print(CliContext context, EventView item)
    {
        if (context.Json)
        {
            context.Write(item, MeshJsonContext.Default.EventView, indented: false);
        }
        else
        {
            var style = context.Style;
            var type = item.Type.EndsWith("killed", StringComparison.Ordinal) || item.Type.EndsWith("expired", StringComparison.Ordinal) || item.Type.EndsWith("failed", StringComparison.Ordinal)
                ? style.Red(item.Type)
                : item.Type.EndsWith("joined", StringComparison.Ordinal) || item.Type.EndsWith("acked", StringComparison.Ordinal) ? style.Green(item.Type) : style.Cyan(item.Type);
            var data = item.Data is { } d ? " " + style.Dim(d.GetRawText()) : "";
            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{style.Dim(item.Revision.ToString(CultureInfo.InvariantCulture)),-8} {Times.Stamp(item.At)}  {type}  {item.AgentId ?? "-"}{(item.SessionId is null ? "" : " " + style.Dim(item.SessionId))}{data}"));
        }
        context.Out.Flush();
    }
}
