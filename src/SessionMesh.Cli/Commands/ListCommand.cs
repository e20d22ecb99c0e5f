using System.CommandLine;
using SessionMesh.Cli.Output;
using SessionMesh.Client;
using SessionMesh.Contracts;
using SessionMesh.Mesh;
using SessionMesh.Model;

namespace SessionMesh.Cli.Commands;

/// <summary><c>session-mesh list</c>: sessions by status, as a table, a tree, or JSON; live with --watch.</summary>
internal static class ListCommand
{
    public static Command Create(CliApp app)
    {
        var filter = new Option<string?>("--filter", "-f")
        {
            Description = $"Status filter: {string.Join(", ", StatusFilters.Words)} (default alive, or the one set by load-config)",
            HelpName = "FILTER",
        };
        filter.AcceptOnlyFromAmong([.. StatusFilters.Words]);
        var spec = new Option<string?>("--spec") { Description = "Only agents registered for this specialization", HelpName = "SPEC" };
        var label = new Option<string[]>("--label", "-l") { Description = "Label selector k=v (repeatable; all must match)", HelpName = "K=V" };
        label.Validators.Add(result =>
        {
            foreach (var token in result.Tokens)
            {
                if (!IsLabelSelector(token.Value))
                {
                    result.AddError($"--label '{token.Value}' is not of the form key=value");
                }
            }
        });
        var parent = new Option<string?>("--parent") { Description = "Only sub-agents of this agent", HelpName = "AGENT_ID" };
        var tree = new Option<bool>("--tree") { Description = "Draw the sub-agent tree (parent → children)" };
        var watch = new Option<bool>("--watch", "-w") { Description = "Keep the list up to date from the event stream (Ctrl+C to stop)" };
        var limit = new Option<int?>("--limit") { Description = "At most this many sessions (default: all, following pages)", HelpName = "N" };
        limit.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is < 1)
            {
                result.AddError("--limit must be at least 1");
            }
        });

        var command = new Command("list", "List sessions: who is alive, idle, stale or gone.") { filter, spec, label, parent, tree, watch, limit };
        app.Examples(command,
            "session-mesh list",
            "session-mesh list --filter alive --output json",
            "session-mesh list --filter all --spec image-processing --label zone=eu",
            "session-mesh list --tree",
            "session-mesh list --watch");
        app.SetAction(command, async (context, parseResult, cancellationToken) =>
        {
            var query = new AliveQuery
            {
                Filter = parseResult.GetValue(filter) ?? context.Settings.Load().ListFilter ?? "alive",
                Specialization = parseResult.GetValue(spec),
                Labels = parseResult.GetValue(label),
                ParentId = parseResult.GetValue(parent),
            };
            var max = parseResult.GetValue(limit);
            using var client = context.CreateClient();
            var view = new ListView(context, query, parseResult.GetValue(tree));
            if (!parseResult.GetValue(watch))
            {
                view.Render(await FetchAsync(client, query, max, cancellationToken), live: false);
                return ExitCodes.Ok;
            }
            return await WatchAsync(context, client, view, query, max, cancellationToken);
        });
        return command;
    }

    // The server's own rule for selectors, so a typo fails here with exit 2 rather than as a 400.
    internal static bool IsLabelSelector(string value)
    {
        try
        {
            Validate.LabelSelector(value);
            return true;
        }
        catch (MeshException)
        {
            return false;
        }
    }

    private static async Task<List<SessionView>> FetchAsync(SessionMeshClient client, AliveQuery query, int? max, CancellationToken cancellationToken)
    {
        var sessions = new List<SessionView>();
        await foreach (var session in client.ListAllAliveAsync(query with { Limit = max is { } m ? Math.Min(m, 1000) : 1000 }, cancellationToken))
        {
            sessions.Add(session);
            if (sessions.Count == max)
            {
                break;
            }
        }
        return sessions;
    }

    private static async Task<int> WatchAsync(CliContext context, SessionMeshClient client, ListView view, AliveQuery query, int? max, CancellationToken cancellationToken)
    {
        var reconnector = new Reconnector(context);
        long? last = null;
        while (true)
        {
            try
            {
                // Subscribe first, then list: a change between the two still triggers a redraw. After a reconnect the
                // stream resumes after the last revision seen, and the list is fetched again in full.
                using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                var events = client.WatchEventsAsync(last, attempt.Token).GetAsyncEnumerator(attempt.Token);
                var next = events.MoveNextAsync().AsTask();
                try
                {
                    view.Render(await FetchAsync(client, query, max, cancellationToken), live: true);
                    reconnector.Connected();
                    while (await next)
                    {
                        var type = events.Current.Type;
                        last = events.Current.Revision;
                        next = events.MoveNextAsync().AsTask();
                        if (type.StartsWith("session.", StringComparison.Ordinal) || type.StartsWith("agent.", StringComparison.Ordinal))
                        {
                            view.Render(await FetchAsync(client, query, max, cancellationToken), live: true);
                        }
                    }
                    return ExitCodes.Ok;
                }
                finally
                {
                    // An async iterator cannot be disposed while a MoveNextAsync is pending (the list fetch failed
                    // first): stop that read and let it finish before disposing, or the reconnect loop dies here.
                    await attempt.CancelAsync();
                    try
                    {
                        await next;
                    }
                    catch (Exception ex) when (ex is OperationCanceledException || Reconnector.IsTransient(ex, CancellationToken.None) || ex is SessionMeshException)
                    {
                        // The attempt's own failure: the catch below reports it.
                    }
                    await events.DisposeAsync();
                }
            }
            catch (SessionMeshException ex) when (ex.Code == "revision_compacted")
            {
                last = null;
            }
            catch (Exception ex) when (Reconnector.IsTransient(ex, cancellationToken))
            {
                try
                {
                    await reconnector.WaitAsync(ex, last, cancellationToken);
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

    /// <summary>Renders a list of sessions in the chosen shape.</summary>
    private sealed class ListView(CliContext context, AliveQuery query, bool tree)
    {
        // A tree is asked for by name: piping it (to less, to a file) keeps it a tree unless --output json|yaml says otherwise.
        private readonly bool _data = context.Json && !(tree && !context.FormatAsked);

        public void Render(List<SessionView> sessions, bool live)
        {
            if (_data)
            {
                // One document per render; with --watch that makes a stream of JSON lines.
                context.Write(new Page<SessionView> { Items = sessions }, MeshJsonContext.Default.PageSessionView, indented: !live);
                context.Out.Flush();
                return;
            }
            if (live && context.Console.IsOutputTerminal)
            {
                context.Out.Write("\u001b[H\u001b[2J");
            }
            var now = context.Console.Time.GetUtcNow();
            if (live)
            {
                context.Out.WriteLine(context.Style.Dim($"{Times.Stamp(now)}  filter={query.Filter}  (watching; Ctrl+C to stop)"));
            }
            if (sessions.Count == 0)
            {
                context.Out.WriteLine($"No sessions match filter '{query.Filter}'.");
            }
            else if (tree)
            {
                WriteTree(sessions, now);
            }
            else
            {
                WriteTable(sessions, now);
            }
            context.Out.Flush();
        }

        private void WriteTable(List<SessionView> sessions, DateTimeOffset now)
        {
            string[] headers = ["AGENT", "STATUS", "PARENT", "LOAD", "TTL", "LAST SEEN", "EXPIRES", "SPECIALIZATIONS", "SESSION"];
            // The progress column only when some agent reports progress: most fleets never do.
            var progress = sessions.Any(s => s.Progress is not null);
            string[] extra = [.. progress ? ["PROGRESS"] : Array.Empty<string>(), .. context.Wide ? ["CLUSTER", "STARTED", "LABELS"] : Array.Empty<string>()];
            var table = new Table([.. headers, .. extra]);
            foreach (var s in sessions)
            {
                string?[] wide = [
                    .. progress ? [ProgressText.Line(s.Progress)] : Array.Empty<string?>(),
                    .. context.Wide
                        ? [s.Cluster, Times.Stamp(s.StartedAt), s.Labels.Count == 0 ? null : string.Join(",", s.Labels.Select(l => $"{l.Key}={l.Value}"))]
                        : Array.Empty<string?>()];
                table.Add([
                    context.Style.Bold(s.AgentId),
                    context.Style.Status(s.Status.ToWire()),
                    s.ParentId,
                    Times.Load(s.Load),
                    $"{s.Ttl}s",
                    Times.Ago(s.LastSeen, now),
                    s.Status.IsTerminal() ? $"{s.EndReason ?? s.Status.ToWire()}" : Times.Until(s.ExpiresAt, now),
                    s.Specializations.Count == 0 ? null : string.Join(",", s.Specializations),
                    context.Style.Dim(s.SessionId),
                    .. wide]);
            }
            table.Write(context.Out, context.Style);
        }

        private void WriteTree(List<SessionView> sessions, DateTimeOffset now)
        {
            var present = sessions.Select(s => s.AgentId).ToHashSet(StringComparer.Ordinal);
            var roots = TreeRenderer.Build(
                sessions,
                s => s.AgentId,
                s => s.ParentId,
                s =>
                {
                    var label = $"{context.Style.Bold(s.AgentId)} {context.Style.Status(s.Status.ToWire())}";
                    if (s.Specializations.Count > 0)
                    {
                        label += $" [{string.Join(",", s.Specializations)}]";
                    }
                    label += context.Style.Dim($" seen {Times.Ago(s.LastSeen, now)}");
                    if (s.ParentId is { } p && !present.Contains(p))
                    {
                        label += context.Style.Dim($" (parent {p})");
                    }
                    return label;
                });
            TreeRenderer.Write(context.Out, roots);
        }
    }
}
