using System.CommandLine;
using SessionMesh.Client;
using SessionMesh.Contracts;

namespace SessionMesh.Cli.Commands;

/// <summary><c>session-mesh logs</c>: an agent's output as shipped by <c>session-mesh agent</c>, like <c>kubectl logs [-f]</c>.</summary>
internal static class LogsCommand
{
    public static Command Create(CliApp app)
    {
        var agentId = new Option<string>("--agent-id") { Description = "The agent whose output to show", HelpName = "ID", Required = true };
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing new lines as they arrive (Ctrl+C to stop); reconnects and resumes by itself" };
        var tail = new Option<int?>("--tail") { Description = "How many of the last lines to show first (default 100; the server keeps a bounded tail)", HelpName = "N" };
        var command = new Command("logs", "Print an agent's output: the last lines the mesh keeps, and with -f each new line as it comes.") { agentId, follow, tail };
        app.Examples(command,
            "session-mesh logs --agent-id worker-1",
            "session-mesh logs --agent-id worker-1 -f",
            "session-mesh logs --agent-id worker-1 --tail 20 --output json | jq .text");
        app.SetAction(command, async (context, parseResult, cancellationToken) =>
        {
            var id = parseResult.GetRequiredValue(agentId);
            var count = parseResult.GetValue(tail);
            using var client = context.CreateClient();
            if (!parseResult.GetValue(follow))
            {
                var logs = await client.GetLogsAsync(id, count, cancellationToken);
                foreach (var line in logs.Items)
                {
                    Print(context, line);
                }
                if (logs.Dropped > 0 && !context.Json)
                {
                    context.Error.WriteLine(context.ErrorStyle.Dim($"session-mesh: {logs.Dropped} lines were dropped by the agent's wrapper (the mesh was slow or away)."));
                }
                return ExitCodes.Ok;
            }
            return await FollowAsync(context, client, id, count, cancellationToken);
        });
        return command;
    }

    private static async Task<int> FollowAsync(CliContext context, SessionMeshClient client, string agentId, int? tail, CancellationToken cancellationToken)
    {
        long? after = null;
        var reconnector = new Reconnector(context);
        while (true)
        {
            try
            {
                await foreach (var line in client.FollowLogsAsync(agentId, tail, after, cancellationToken))
                {
                    reconnector.Connected();
                    after = line.Sequence;
                    Print(context, line);
                }
                // The server closed the stream (it is stopping): reconnect like after a drop.
                throw new IOException("the server closed the stream");
            }
            catch (Exception ex) when (Reconnector.IsTransient(ex, cancellationToken))
            {
                try
                {
                    await reconnector.WaitAsync(ex, after, cancellationToken);
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
    }

    private static void Print(CliContext context, LogLineView line)
    {
        if (context.Json)
        {
            context.Write(line, MeshJsonContext.Default.LogLineView, indented: false);
        }
        else
        {
            context.Out.WriteLine(line.Stream == "stderr" ? context.Style.Red(line.Text) : line.Text);
        }
        context.Out.Flush();
    }
}
