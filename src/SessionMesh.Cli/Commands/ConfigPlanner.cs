using System.Globalization;
using SessionMesh.Cli.Config;
using SessionMesh.Client;
using SessionMesh.Contracts;
using SessionMesh.Model;

namespace SessionMesh.Cli.Commands;

/// <summary>
/// Compares a config file with the mesh and the CLI settings, and applies the difference. What "apply an
/// agent" means against this API: its specializations go to <c>POST /registry</c>, which creates an agent that
/// never joined (declared, not alive). Parent, labels and TTL belong to a join (<c>POST /sessions</c>); the API
/// has no call to set them on a declared agent, so they are compared and reported as <c>deferred</c>,
/// taking effect when the agent joins with them. Keys are minted once, recognised by name afterwards.
/// </summary>
internal sealed class ConfigPlanner(SessionMeshClient client, CliSettingsStore settings)
{
    private readonly List<(PlanAction Action, Func<CancellationToken, Task>? Apply)> _steps = [];
    private readonly List<CreatedKeyView> _minted = [];

    public IReadOnlyList<CreatedKeyView> Minted => _minted;

    public IEnumerable<PlanAction> Actions => _steps.Select(s => s.Action);

    public async Task PlanAsync(MeshConfig config, CancellationToken cancellationToken)
    {
        var declared = config.Agents.Select(a => a.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var agent in config.Agents)
        {
            await PlanAgentAsync(config, agent, declared, cancellationToken);
        }
        if (config.Keys.Count > 0)
        {
            await PlanKeysAsync(config, cancellationToken);
        }
        if (config.DefaultFilter is { } filter)
        {
            var current = settings.Load().ListFilter;
            if (current == filter)
            {
                Add("list_filter", filter, PlanChanges.Unchanged, $"`session-mesh list` already defaults to '{filter}'", null);
            }
            else
            {
                Add("list_filter", filter, PlanChanges.Update, $"`session-mesh list` defaults to '{filter}' (was {(current is null ? "the built-in 'alive'" : $"'{current}'")}); saved in {settings.FilePath}",
                    _ =>
                    {
                        settings.Save(settings.Load() with { ListFilter = filter });
                        return Task.CompletedTask;
                    });
            }
        }
    }

    public async Task ApplyAsync(CancellationToken cancellationToken)
    {
        foreach (var (_, apply) in _steps)
        {
            if (apply is not null)
            {
                await apply(cancellationToken);
            }
        }
    }

    private async Task PlanAgentAsync(MeshConfig config, AgentDeclaration agent, HashSet<string> declared, CancellationToken cancellationToken)
    {
        var existing = await TryGetAgentAsync(agent.Id, cancellationToken);
        if (existing is not null)
        {
            Add("agent", agent.Id, PlanChanges.Unchanged, existing.Alive ? $"exists, {existing.Status?.ToWire() ?? "alive"}" : "exists, not alive", null);
        }
        else if (agent.Specializations.Count > 0)
        {
            Add("agent", agent.Id, PlanChanges.Create, "declared through its specializations (not alive until it joins)", null);
        }
        else
        {
            Add("agent", agent.Id, PlanChanges.Deferred, "appears when it first joins (no specializations to register it with)", null);
        }

        foreach (var spec in agent.Specializations)
        {
            var current = existing?.Specializations.FirstOrDefault(s => s.Name == spec.Name);
            var target = $"{agent.Id}/{spec.Name}";
            var request = new RegisterRequest
            {
                AgentId = agent.Id,
                Specialization = spec.Name,
                Description = spec.Description,
                Tags = spec.Tags,
                Version = spec.Version,
                Cluster = config.Cluster,
            };
            Task Register(CancellationToken ct) => client.RegisterAsync(request, ct);
            if (current is null)
            {
                Add("specialization", target, PlanChanges.Create, "register", Register);
            }
            else if (Differs(spec, current) is { } difference)
            {
                Add("specialization", target, PlanChanges.Update, difference, Register);
            }
            else
            {
                Add("specialization", target, PlanChanges.Unchanged, "registered", null);
            }
        }

        var joinSettings = new List<string>();
        var drift = new List<string>();
        if (agent.ParentId is { } parent)
        {
            joinSettings.Add($"parent {parent}");
            if (existing?.ParentId != parent)
            {
                drift.Add("parent");
            }
            if (!declared.Contains(parent) && await TryGetAgentAsync(parent, cancellationToken) is null)
            {
                joinSettings.Add($"(parent {parent} is not known to the mesh yet)");
            }
        }
        if (agent.Labels is { Count: > 0 } labels)
        {
            joinSettings.Add("labels " + string.Join(",", labels.Select(l => $"{l.Key}={l.Value}")));
            if (existing is null || !SameLabels(existing.Labels, labels))
            {
                drift.Add("labels");
            }
        }
        if (agent.Ttl is { } ttl)
        {
            joinSettings.Add($"ttl {ttl.ToString(CultureInfo.InvariantCulture)}s");
            if (existing?.Session?.Ttl != ttl)
            {
                drift.Add("ttl");
            }
        }
        if (agent.MaxRuntime is { } maxRuntime)
        {
            joinSettings.Add($"max_runtime {maxRuntime.ToString(CultureInfo.InvariantCulture)}s");
            if (existing?.Session?.MaxRuntime != maxRuntime)
            {
                drift.Add("max_runtime");
            }
        }
        if (joinSettings.Count > 0)
        {
            var detail = string.Join("; ", joinSettings);
            Add("join_settings", agent.Id,
                drift.Count == 0 ? PlanChanges.Unchanged : PlanChanges.Deferred,
                drift.Count == 0 ? $"{detail} (as the agent runs now)" : $"{detail}: set by the agent's join (session-mesh agent / SDK); the API cannot set them on a declared agent",
                null);
        }
    }

    private async Task PlanKeysAsync(MeshConfig config, CancellationToken cancellationToken)
    {
        var existing = new List<KeyView>();
        await foreach (var key in client.ListAllKeysAsync(cancellationToken))
        {
            existing.Add(key);
        }
        foreach (var key in config.Keys)
        {
            var match = existing.FirstOrDefault(k => k.Name == key.Name && k.State == "active" && (config.Cluster is null || k.Cluster == config.Cluster));
            var scopes = key.Scopes.Count == 0 ? "the minting key's scopes" : string.Join(",", key.Scopes);
            if (match is not null)
            {
                Add("key", key.Name, PlanChanges.Unchanged, $"active as {match.KeyId}", null);
                continue;
            }
            var request = new CreateKeyRequest
            {
                Name = key.Name,
                Scopes = key.Scopes.Count == 0 ? null : key.Scopes,
                Ttl = key.Ttl,
                AgentId = key.AgentId,
                Cluster = config.Cluster,
            };
            Add("key", key.Name, PlanChanges.Create, $"mint ({scopes}; ttl {(key.Ttl is { } t ? $"{t}s" : "default")})", async ct =>
            {
                _minted.Add(await client.CreateKeyAsync(request, null, ct));
            });
        }
    }

    private async Task<AgentView?> TryGetAgentAsync(string agentId, CancellationToken cancellationToken)
    {
        try
        {
            return await client.GetAgentAsync(agentId, cancellationToken);
        }
        catch (SessionMeshException ex) when (ex.IsNotFound)
        {
            return null;
        }
    }

    private static string? Differs(SpecializationDeclaration wanted, SpecializationView current)
    {
        var changes = new List<string>();
        if (wanted.Description is not null && wanted.Description != current.Description)
        {
            changes.Add("description");
        }
        if (wanted.Tags is not null && !wanted.Tags.Order(StringComparer.Ordinal).SequenceEqual(current.Tags.Order(StringComparer.Ordinal), StringComparer.Ordinal))
        {
            changes.Add("tags");
        }
        if (wanted.Version is not null && wanted.Version != current.Version)
        {
            changes.Add("version");
        }
        return changes.Count == 0 ? null : "change " + string.Join(", ", changes);
    }

    private static bool SameLabels(Dictionary<string, string> current, Dictionary<string, string> wanted) =>
        current.Count == wanted.Count && wanted.All(l => current.TryGetValue(l.Key, out var v) && v == l.Value);

    private void Add(string kind, string target, string change, string detail, Func<CancellationToken, Task>? apply) =>
        _steps.Add((new PlanAction { Kind = kind, Target = target, Change = change, Detail = detail }, apply));
}
