using System.CommandLine;
using SessionMesh.Cli.Output;
using SessionMesh.Contracts;
using SessionMesh.Model;

namespace SessionMesh.Cli.Commands;

/// <summary><c>session-mesh get agent|session|command|key ID</c>: one object, described field by field (or as JSON/YAML).</summary>
internal static class GetCommand
{
    public static Command Create(CliApp app)
    {
        var get = new Command("get", "Show one agent (with its session, specializations and children), session, command or key.");
        get.Subcommands.Add(Leaf(app, "agent", "AGENT_ID", "An agent: labels, open session, specializations, children.", async (context, client, id, ct) =>
            Show(context, await client.GetAgentAsync(id, ct), MeshJsonContext.Default.AgentView, DescribeAgent)));
        get.Subcommands.Add(Leaf(app, "session", "SESSION_ID", "A session, open or ended.", async (context, client, id, ct) =>
            Show(context, await client.GetSessionAsync(id, ct), MeshJsonContext.Default.SessionView, DescribeSession)));
        get.Subcommands.Add(Leaf(app, "command", "COMMAND_ID", "A steer, kill or message and where it stands.", async (context, client, id, ct) =>
            CommandsCommand.Print(context, await client.GetCommandAsync(id, ct))));
        get.Subcommands.Add(Leaf(app, "key", "KEY_ID", "A key (never its secret); needs the keys scope, except for your own key.", async (context, client, id, ct) =>
        {
            var self = await client.GetSelfKeyAsync(ct);
            Show(context, self.KeyId == id ? self : await FindKeyAsync(client, id, ct), MeshJsonContext.Default.KeyView, KeysCommand.Describe);
        }));
        app.Examples(get,
            "session-mesh get agent 123",
            "session-mesh get session ses_0123456789",
            "session-mesh get command cmd_0123456789 --output yaml",
            "session-mesh get key key_0123456789");
        get.SetAction(parseResult =>
        {
            app.Console.Error.WriteLine("session-mesh: get needs a kind and an id: get agent|session|command|key ID. Run 'session-mesh get --help'.");
            return ExitCodes.Usage;
        });
        return get;
    }

    private static Command Leaf(CliApp app, string kind, string idName, string description, Func<CliContext, Client.SessionMeshClient, string, CancellationToken, Task> show)
    {
        var id = new Argument<string>(idName.ToLowerInvariant()) { Description = $"The {kind}'s id", HelpName = idName };
        var command = new Command(kind, description) { id };
        app.SetAction(command, async (context, parseResult, cancellationToken) =>
        {
            using var client = context.CreateClient();
            await show(context, client, parseResult.GetRequiredValue(id), cancellationToken);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static async Task<KeyView> FindKeyAsync(Client.SessionMeshClient client, string keyId, CancellationToken cancellationToken)
    {
        // There is no GET /keys/{key_id}: the list (keys scope) is searched.
        await foreach (var key in client.ListAllKeysAsync(cancellationToken))
        {
            if (key.KeyId == keyId)
            {
                return key;
            }
        }
        throw new CliException(ExitCodes.NotFound, $"no key '{keyId}' among the keys this key can see. `session-mesh keys list` shows them.");
    }

    /// <summary>The value as JSON or YAML when data is asked for, else described for people.</summary>
    private static void Show<T>(CliContext context, T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> info, Action<CliContext, T> describe)
    {
        if (context.Json)
        {
            context.Write(value, info);
        }
        else
        {
            describe(context, value);
        }
    }

    private static void DescribeAgent(CliContext context, AgentView agent)
    {
        var now = context.Console.Time.GetUtcNow();
        var style = context.Style;
        var session = agent.Session;
        new Details()
            .Field("Agent", style.Bold(agent.AgentId))
            .Field("Cluster", agent.Cluster)
            .Field("Parent", agent.ParentId)
            .Field("Status", agent.Status is { } status ? $"{style.Status(status.ToWire())}{(agent.Alive ? " (alive)" : "")}" : "never joined")
            .Field("Labels", agent.Labels.Count == 0 ? null : string.Join(",", agent.Labels.Select(l => $"{l.Key}={l.Value}")))
            .Field("Created", Times.Stamp(agent.CreatedAt))
            .Field("Session", session is null ? null
                : $"{session.SessionId} ttl {session.Ttl}s, last seen {Times.Ago(session.LastSeen, now)}, expires {Times.Until(session.ExpiresAt, now)}, load {Times.Load(session.Load)}")
            .Field("Progress", ProgressText.Line(session?.Progress))
            .Section("Specializations", agent.Specializations.Select(s =>
                string.Join("  ", new[] { style.Cyan(s.Name), s.Version is null ? null : $"v{s.Version}", s.Tags.Count == 0 ? null : $"[{string.Join(",", s.Tags)}]", s.Description }.Where(p => p is not null))))
            .Section("Children", agent.Children)
            .Write(context.Out);
    }

    private static void DescribeSession(CliContext context, SessionView session)
    {
        var now = context.Console.Time.GetUtcNow();
        new Details()
            .Field("Session", session.SessionId)
            .Field("Agent", context.Style.Bold(session.AgentId))
            .Field("Cluster", session.Cluster)
            .Field("Parent", session.ParentId)
            .Field("Status", context.Style.Status(session.Status.ToWire()))
            .Field("TTL", $"{session.Ttl}s")
            .Field("Load", Times.Load(session.Load))
            .Field("Started", Times.Stamp(session.StartedAt))
            .Field("Last seen", $"{Times.Stamp(session.LastSeen)} ({Times.Ago(session.LastSeen, now)})")
            .Field(session.Status.IsTerminal() ? "Ended" : "Expires", session.Status.IsTerminal()
                ? $"{(session.EndedAt is { } e ? Times.Stamp(e) : "-")} ({session.EndReason ?? session.Status.ToWire()})"
                : $"{Times.Stamp(session.ExpiresAt)} ({Times.Until(session.ExpiresAt, now)})")
            .Field("Max runtime", session.MaxRuntime is { } m ? $"{m}s" : null)
            .Field("Progress", ProgressText.Line(session.Progress))
            .Field("Stall after", session.StallAfter is { } stall ? $"{stall}s without progress, then {session.OnStall ?? "none"}" : null)
            .Field("Labels", session.Labels.Count == 0 ? null : string.Join(",", session.Labels.Select(l => $"{l.Key}={l.Value}")))
            .Field("Specializations", session.Specializations.Count == 0 ? null : string.Join(",", session.Specializations))
            .Write(context.Out);
    }
}
