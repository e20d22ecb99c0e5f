using System.CommandLine;
using System.CommandLine.Completions;

namespace SessionMesh.Cli;

/// <summary>
/// Completes agent ids from the server: every <c>--agent-id</c> and <c>--parent</c> option and the id of
/// <c>get agent</c>. A shell's completion asks the parser (<c>[suggest:N]</c>); this asks the mesh the user points at,
/// with the same server, key and cluster a command would use, and gives up quietly (no suggestions) when there is no
/// key, no server or no answer within a moment — completion must never hang a shell or print an error.
/// </summary>
internal static class AgentIdCompletion
{
    private static readonly TimeSpan s_patience = TimeSpan.FromSeconds(2);
    private const int MaxSuggestions = 1000;

    /// <summary>Adds the source to every agent-id option and argument under <paramref name="root"/>.</summary>
    public static void AddTo(Command root, CliApp app)
    {
        foreach (var command in Descendants(root))
        {
            foreach (var option in command.Options.Where(o => o.Name is "--agent-id" or "--parent"))
            {
                option.CompletionSources.Add(context => Suggest(app, context));
            }
            if (command is { Name: "agent", Parents: var parents } && parents.OfType<Command>().Any(p => p.Name == "get"))
            {
                foreach (var argument in command.Arguments)
                {
                    argument.CompletionSources.Add(context => Suggest(app, context));
                }
            }
        }
    }

    private static IEnumerable<Command> Descendants(Command command) =>
        command.Subcommands.SelectMany(sub => Descendants(sub).Prepend(sub));

    private static IEnumerable<CompletionItem> Suggest(CliApp app, CompletionContext completion)
    {
        try
        {
            var context = CliContext.From(completion.ParseResult, app.Globals, app.Console);
            using var client = context.CreateClient();
            using var patience = new CancellationTokenSource(s_patience);
            var prefix = completion.WordToComplete;
            // A completion runs in its own short process: waiting synchronously is the simplest honest way here.
            var ids = ListAsync(client, prefix, patience.Token).GetAwaiter().GetResult();
            return ids.Select(id => new CompletionItem(id)).ToList();
        }
        catch (Exception ex) when (ex is CliException or OperationCanceledException or HttpRequestException or Client.SessionMeshException or Client.SessionMeshConnectionException)
        {
            return [];
        }
    }

    private static async Task<List<string>> ListAsync(Client.SessionMeshClient client, string prefix, CancellationToken cancellationToken)
    {
        var ids = new List<string>();
        await foreach (var agent in client.ListAllAgentsAsync(cancellationToken))
        {
            if (agent.AgentId.StartsWith(prefix, StringComparison.Ordinal))
            {
                ids.Add(agent.AgentId);
                if (ids.Count == MaxSuggestions)
                {
                    break;
                }
            }
        }
        return ids;
    }
}
