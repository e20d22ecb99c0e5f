using SessionMesh.Mesh;
using SessionMesh.Model;
using YamlDotNet.RepresentationModel;

namespace SessionMesh.Cli.Config;

/// <summary>
/// Reads a <c>load-config</c> YAML file. The seed's shape (<c>sessions:</c> with <c>- id: 123</c> and
/// <c>- filter: alive</c>) is the core; every problem is reported with file, line and column, all at once.
/// </summary>
internal static class MeshConfigLoader
{
    private static readonly Dictionary<string, string> s_topKeys = Aliases(
        ("cluster", []), ("sessions", ["agents"]), ("keys", []), ("defaults", []));

    private static readonly Dictionary<string, string> s_agentKeys = Aliases(
        ("id", ["agent_id", "agent-id"]), ("parent", ["parent_id", "parent-id"]),
        ("specializations", ["specialization", "specs", "spec"]), ("labels", []), ("ttl", []),
        ("max_runtime", ["max-runtime"]), ("filter", []), ("card", ["card_file", "card-file", "agent_card"]));

    private static readonly Dictionary<string, string> s_specKeys = Aliases(("name", []), ("description", []), ("tags", []), ("version", []));

    private static readonly Dictionary<string, string> s_keyKeys = Aliases(("name", []), ("scopes", ["scope"]), ("ttl", []), ("agent_id", ["agent-id"]));

    private static readonly Dictionary<string, string> s_defaultsKeys = Aliases(("filter", []));

    public static MeshConfig Load(string path) => Read(YamlFile.Load(path), Path.GetDirectoryName(Path.GetFullPath(path))!);

    /// <summary>Reads YAML text; card files it names are relative to <paramref name="baseDirectory"/> (the current one by default).</summary>
    public static MeshConfig Parse(string displayName, string text, string? baseDirectory = null) =>
        Read(YamlFile.Parse(displayName, text), baseDirectory ?? Directory.GetCurrentDirectory());

    private static MeshConfig Read(YamlFile yaml, string baseDirectory)
    {
        string? cluster = null;
        string? filter = null;
        var agents = new List<AgentDeclaration>();
        var keys = new List<KeyDeclaration>();
        if (yaml.Root is not null)
        {
            var top = yaml.Mapping(yaml.Root, "the config file", s_topKeys);
            if (top.TryGetValue("cluster", out var c) && yaml.String(c.Value, "cluster") is { } clusterName)
            {
                cluster = Check(yaml, c.Value, () => Validate.Cluster(clusterName));
            }
            if (top.TryGetValue("defaults", out var d))
            {
                var defaults = yaml.Mapping(d.Value, "defaults", s_defaultsKeys);
                if (defaults.TryGetValue("filter", out var f))
                {
                    filter = ReadFilter(yaml, f.Value, filter);
                }
            }
            if (top.TryGetValue("sessions", out var s))
            {
                ReadAgents(yaml, s.Value, agents, baseDirectory, ref filter);
            }
            if (top.TryGetValue("keys", out var k))
            {
                ReadKeys(yaml, k.Value, keys);
            }
        }
        yaml.ThrowIfErrors();
        return new MeshConfig { File = yaml.DisplayName, Cluster = cluster, Agents = agents, Keys = keys, DefaultFilter = filter };
    }

    private static void ReadAgents(YamlFile yaml, YamlNode node, List<AgentDeclaration> agents, string baseDirectory, ref string? filter)
    {
        if (node is not YamlSequenceNode sequence)
        {
            yaml.Error(node, "sessions must be a list, each entry '- id: AGENT_ID' or '- filter: WORD'");
            return;
        }
        var seen = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
        var parents = new Dictionary<string, (string Parent, YamlNode Node)>(StringComparer.Ordinal);
        foreach (var entryNode in sequence.Children)
        {
            var entry = yaml.Mapping(entryNode, "a sessions entry", s_agentKeys);
            if (entry.TryGetValue("filter", out var f))
            {
                if (entry.Count > 1)
                {
                    yaml.Error(f.Key, "'filter' sets the default filter of `session-mesh list`; give it in an entry of its own ('- filter: alive')");
                }
                filter = ReadFilter(yaml, f.Value, filter);
                continue;
            }
            if (!entry.TryGetValue("id", out var idEntry))
            {
                if (entryNode is YamlMappingNode)
                {
                    yaml.Error(entryNode, "a sessions entry needs an 'id' (the agent id) or a 'filter'");
                }
                continue;
            }
            var id = Id(yaml, idEntry.Value, "id");
            if (id is null)
            {
                continue;
            }
            if (!seen.TryAdd(id, idEntry.Value))
            {
                yaml.Error(idEntry.Value, $"agent '{id}' is declared twice (first at line {seen[id].Start.Line})");
                continue;
            }
            string? parent = null;
            if (entry.TryGetValue("parent", out var p) && Id(yaml, p.Value, "parent") is { } parentId)
            {
                if (parentId == id)
                {
                    yaml.Error(p.Value, $"agent '{id}' cannot be its own parent");
                }
                else
                {
                    parent = parentId;
                    parents[id] = (parentId, p.Value);
                }
            }
            var specs = entry.TryGetValue("specializations", out var sp) ? ReadSpecializations(yaml, sp.Value) : [];
            var labels = entry.TryGetValue("labels", out var l) ? yaml.StringMap(l.Value, "labels") : null;
            if (labels is not null && l.Value is not null)
            {
                Check(yaml, l.Value, () => Validate.Labels(labels));
            }
            agents.Add(new AgentDeclaration
            {
                Id = id,
                ParentId = parent,
                Specializations = specs,
                Labels = labels,
                Ttl = entry.TryGetValue("ttl", out var t) ? yaml.Int(t.Value, "ttl", MeshLimits.MinTtl, MeshLimits.MaxTtl) : null,
                MaxRuntime = entry.TryGetValue("max_runtime", out var m) ? yaml.Int(m.Value, "max_runtime", 1, int.MaxValue) : null,
                CardFile = entry.TryGetValue("card", out var cardEntry) ? yaml.String(cardEntry.Value, "card") : null,
                Card = cardEntry.Value is not null ? CardFile.Read(yaml, cardEntry.Value, baseDirectory) : null,
            });
        }
        // A parent chain that loops can never be joined: catch it here, not agent by agent at run time.
        foreach (var (id, (_, parentNode)) in parents)
        {
            var visited = new HashSet<string>(StringComparer.Ordinal) { id };
            for (var current = id; parents.TryGetValue(current, out var next); current = next.Parent)
            {
                if (!visited.Add(next.Parent))
                {
                    yaml.Error(parentNode, $"agent '{id}' is part of a parent cycle");
                    break;
                }
            }
        }
    }

    private static List<SpecializationDeclaration> ReadSpecializations(YamlFile yaml, YamlNode node)
    {
        var result = new List<SpecializationDeclaration>();
        var items = node is YamlSequenceNode sequence ? sequence.Children : [node];
        foreach (var item in items)
        {
            if (item is YamlScalarNode)
            {
                if (yaml.String(item, "a specialization") is { } name && Check(yaml, item, () => Validate.Specialization(name)) is not null)
                {
                    result.Add(new SpecializationDeclaration { Name = name });
                }
                continue;
            }
            var spec = yaml.Mapping(item, "a specialization", s_specKeys);
            if (!spec.TryGetValue("name", out var n))
            {
                if (item is YamlMappingNode)
                {
                    yaml.Error(item, "a specialization needs a 'name'");
                }
                continue;
            }
            var specName = yaml.String(n.Value, "name");
            if (specName is null || Check(yaml, n.Value, () => Validate.Specialization(specName)) is null)
            {
                continue;
            }
            var tags = spec.TryGetValue("tags", out var t) ? yaml.StringList(t.Value, "tags") : null;
            if (tags is not null)
            {
                Check(yaml, t.Value, () => Validate.Tags(tags));
            }
            result.Add(new SpecializationDeclaration
            {
                Name = specName,
                Description = spec.TryGetValue("description", out var d) ? yaml.String(d.Value, "description") : null,
                Tags = tags,
                Version = spec.TryGetValue("version", out var v) ? yaml.String(v.Value, "version") : null,
            });
        }
        var duplicates = result.GroupBy(s => s.Name, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        foreach (var duplicate in duplicates)
        {
            yaml.Error(node, $"specialization '{duplicate}' is listed twice");
        }
        return result;
    }

    private static void ReadKeys(YamlFile yaml, YamlNode node, List<KeyDeclaration> keys)
    {
        if (node is not YamlSequenceNode sequence)
        {
            yaml.Error(node, "keys must be a list, each entry '- name: NAME' with scopes and ttl");
            return;
        }
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entryNode in sequence.Children)
        {
            var entry = yaml.Mapping(entryNode, "a keys entry", s_keyKeys);
            if (!entry.TryGetValue("name", out var n))
            {
                if (entryNode is YamlMappingNode)
                {
                    yaml.Error(entryNode, "a key needs a 'name': it is how applying the file again knows the key exists");
                }
                continue;
            }
            var name = yaml.String(n.Value, "name");
            if (name is null)
            {
                continue;
            }
            if (!names.Add(name))
            {
                yaml.Error(n.Value, $"key '{name}' is declared twice");
                continue;
            }
            var scopes = entry.TryGetValue("scopes", out var s) ? yaml.StringList(s.Value, "scopes") : [];
            foreach (var scope in scopes.Where(scope => MeshScopeNames.Parse(scope) is null))
            {
                yaml.Error(s.Value, $"unknown scope '{scope}'; scopes are {string.Join(", ", MeshScopeNames.All)}");
            }
            keys.Add(new KeyDeclaration
            {
                Name = name,
                Scopes = scopes,
                Ttl = entry.TryGetValue("ttl", out var t) ? yaml.Int(t.Value, "ttl", 1, int.MaxValue) : null,
                AgentId = entry.TryGetValue("agent_id", out var a) ? Id(yaml, a.Value, "agent_id") : null,
            });
        }
    }

    private static string? ReadFilter(YamlFile yaml, YamlNode node, string? previous)
    {
        var word = yaml.String(node, "filter");
        if (word is null)
        {
            return previous;
        }
        if (StatusFilters.Parse(word) is null)
        {
            yaml.Error(node, $"unknown filter '{word}'; filters are {string.Join(", ", StatusFilters.Words)}");
            return previous;
        }
        if (previous is not null && !string.Equals(previous, word, StringComparison.OrdinalIgnoreCase))
        {
            yaml.Error(node, $"the default filter is set twice ('{previous}' and '{word}')");
        }
        return word.ToLowerInvariant();
    }

    private static string? Id(YamlFile yaml, YamlNode node, string what) =>
        yaml.String(node, what) is { } id ? Check(yaml, node, () => Validate.AgentId(id, what)) : null;

    private static T? Check<T>(YamlFile yaml, YamlNode node, Func<T> validate)
    {
        try
        {
            return validate();
        }
        catch (MeshException ex)
        {
            yaml.Error(node, ex.Message.Replace("''", "'", StringComparison.Ordinal));
            return default;
        }
    }

    private static Dictionary<string, string> Aliases(params (string Name, string[] Aliases)[] keys)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, aliases) in keys)
        {
            result[name] = name;
            foreach (var alias in aliases)
            {
                result[alias] = name;
            }
        }
        return result;
    }
}
