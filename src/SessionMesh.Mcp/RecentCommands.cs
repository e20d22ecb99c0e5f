using System.Text.Json;
using SessionMesh.Contracts;

namespace SessionMesh.Mcp;

/// <summary>
/// An agent's recent commands. The API has no list of an agent's commands: every <c>command.*</c> event carries the
/// command as it then stood, so the latest event of each command says where it stands now (as `session-mesh commands`
/// reads them). The scan is bounded, so an agent with a long history shows what the newest events hold.
/// </summary>
internal static class RecentCommands
{
    private const int PageSize = 1000;
    private const int MaxPages = 20;

    public static async Task<IReadOnlyList<CommandView>> ReadAsync(IMeshOperations mesh, string agentId, string cluster, int count, CancellationToken cancellationToken)
    {
        if (count == 0)
        {
            return [];
        }
        var latest = new Dictionary<string, CommandView>(StringComparer.Ordinal);
        long since = 0;
        for (var page = 0; page < MaxPages; page++)
        {
            var events = await mesh.ListEventsAsync(since, PageSize, cancellationToken);
            foreach (var e in events)
            {
                since = e.Revision;
                if (e.AgentId == agentId && e.Cluster == cluster && e.Type.StartsWith("command.", StringComparison.Ordinal) && e.Data is { } data
                    && data.Deserialize(MeshJsonContext.Default.CommandView) is { } view)
                {
                    latest[view.CommandId] = view;
                }
            }
            if (events.Count == 0)
            {
                break;
            }
        }
        return latest.Values.OrderByDescending(c => c.Sequence).Take(count).ToList();
    }
}
