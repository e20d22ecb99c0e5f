using System.Globalization;
using System.Text.Json;
using SessionMesh.Cli.Config;
using SessionMesh.Client;
using SessionMesh.Contracts;
using SessionMesh.Model;

namespace SessionMesh.Cli.Commands;

/// <summary>
/// Compares a config file with the mesh and the CLI settings, and applies the difference. What "apply an
/// agent" means against this API: the agent with its parent and labels goes to <c>PUT /agents/{id}</c>
/// (declared, not alive until it joins; parents first), its specializations to <c>POST /registry</c>. TTL and
/// max_runtime belong to a session, so they are compared with the running agent and reported as <c>deferred</c>,
/// taking effect when the agent joins with them. An agent's A2A card file goes to <c>PUT /agents/{id}/card</c>. Keys are minted once, recognised by name afterwards.
/// </summary>
internal sealed class ConfigPlanner(SessionMeshClient client, CliSettingsStore settings)
{
    private readonly List<(PlanAction Action, Func<CancellationToken, Task>? Apply)> _steps = [];
    private readonly List<CreatedKeyView> _minted = [];

    public IReadOnlyList<CreatedKeyView> Minted => _minted;

    public IEnumerable<PlanAction> Actions => _steps.Select(s => s.Action);

    public async Task PlanAsync(MeshConfig config, CancellationToken cancellationToken)
    {
        // Parents are declared before their children (the server needs a parent to exist); the loader has ruled out cycles.
        var byId = config.Agents.ToDictionary(a => a.Id, StringComparer.Ordinal);
        int Depth(AgentDeclaration agent)
        {
            var depth = 0;
            for (var parent = agent.ParentId; parent is not null && depth < byId.Count && byId.TryGetValue(parent, out var up); parent = up.ParentId)
            {
                depth++;
            }
            return depth;
        }
        foreach (var agent in config.Agents.OrderBy(Depth))
        {
            await PlanAgentAsync(config, agent, cancellationToken);
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

    private async Task PlanAgentAsync(MeshConfig config, AgentDeclaration agent, CancellationToken cancellationToken)
    {
        var existing = await TryGetAgentAsync(agent.Id, cancellationToken);
        var declaration = new DeclareAgentRequest { ParentId = agent.ParentId, Labels = agent.Labels, Cluster = config.Cluster };
        Task Declare(CancellationToken ct) => client.DeclareAgentAsync(agent.Id, declaration, ct);
        var placement = string.Join("; ", new[]
        {
            agent.ParentId is { } p ? $"parent {p}" : null,
            agent.Labels is { Count: > 0 } l ? "labels " + string.Join(",", l.Select(x => $"{x.Key}={x.Value}")) : null,
        }.OfType<string>());
        if (existing is null)
        {
            Add("agent", agent.Id, PlanChanges.Create, $"declare{(placement.Length > 0 ? $" ({placement})" : "")}; not alive until it joins", Declare);
        }
        else
        {
            var moved = new List<string>();
            if (agent.ParentId is { } parent && existing.ParentId != parent)
            {
                moved.Add($"parent {existing.ParentId ?? "none"} -> {parent}");
            }
            if (agent.Labels is { } labels && !SameLabels(existing.Labels, labels))
            {
                moved.Add("labels");
            }
            var state = existing.Alive ? $"exists, {existing.Status?.ToWire() ?? "alive"}" : "exists, not alive";
            if (moved.Count == 0)
            {
                Add("agent", agent.Id, PlanChanges.Unchanged, state, null);
            }
            else
            {
                Add("agent", agent.Id, PlanChanges.Update, $"{state}; change {string.Join(", ", moved)}", Declare);
            }
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

        if (agent.Card is { } card)
        {
            await PlanCardAsync(agent, card, cancellationToken);
        }

        var joinSettings = new List<string>();
        var drift = new List<string>();
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
                drift.Count == 0 ? $"{detail} (as the agent runs now)" : $"{detail}: a session's settings, applied by the agent's join (session-mesh agent / SDK)",
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

    /// <summary>The agent's A2A card: stored with <c>PUT /agents/{id}/card</c> when the mesh has none or another one.</summary>
    private async Task PlanCardAsync(AgentDeclaration agent, JsonElement card, CancellationToken cancellationToken)
    {
        JsonElement? current;
        try
        {
            current = await client.GetCardAsync(agent.Id, cancellationToken);
        }
        catch (SessionMeshException ex) when (ex.IsNotFound)
        {
            current = null;
        }
        var skills = card.GetProperty("skills").GetArrayLength();
        var detail = $"A2A card from {agent.CardFile}; its {skills} skill{(skills == 1 ? "" : "s")} become{(skills == 1 ? "s" : "")} specializations";
        Task Put(CancellationToken ct) => client.PutCardAsync(agent.Id, card, ct);
        if (current is null)
        {
            Add("card", agent.Id, PlanChanges.Create, "store the " + detail, Put);
        }
        else if (!JsonElement.DeepEquals(current.Value, card))
        {
            Add("card", agent.Id, PlanChanges.Update, "replace with the " + detail, Put);
        }
        else
        {
            Add("card", agent.Id, PlanChanges.Unchanged, $"the mesh has the card of {agent.CardFile}", null);
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
