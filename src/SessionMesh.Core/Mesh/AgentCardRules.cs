using System.Text.Json;
using SessionMesh.Contracts;

namespace SessionMesh.Mesh;

/// <summary>A skill of a checked card, as it becomes a specialization.</summary>
public sealed record CardSkill(string Id, string Description, List<string> Tags);

/// <summary>A card that passed <see cref="AgentCardRules.Check"/>: its compact JSON (every field kept) and what the registry takes from it.</summary>
public sealed record CheckedCard(string Json, JsonElement Element, string Name, string Version, IReadOnlyList<CardSkill> Skills);

/// <summary>
/// What an A2A Agent Card must hold to be stored (A2A 1.0, <c>specification/a2a.proto</c>, <c>AgentCard</c>): the fields
/// the specification marks required, with their JSON (camelCase) names. Unknown fields are kept, as A2A expects of
/// readers; each refusal names the field's path (<c>skills[2].id</c>). A card of A2A 0.3, with a top-level <c>url</c>
/// instead of <c>supportedInterfaces</c>, is accepted too: most cards published so far are of that version. Public so the
/// CLI checks a card file before it sends it, naming the file.
/// </summary>
public static class AgentCardRules
{
    /// <summary>The most bytes a card may have once written compactly (the request body limit as well).</summary>
    public const int MaxCardBytes = 1024 * 1024;

    /// <summary>The most skills a card may have: each becomes a specialization, as many as a join may register.</summary>
    public const int MaxSkills = MeshLimits.MaxSpecializationsPerJoin;

    public static CheckedCard Check(JsonElement? card)
    {
        if (card is not { ValueKind: JsonValueKind.Object })
        {
            throw MeshException.Invalid("card", "The body must be an A2A Agent Card: a JSON object with name, description, version, supportedInterfaces, capabilities, defaultInputModes, defaultOutputModes and skills.");
        }
        var compact = Validate.Json(card, "card", MaxCardBytes)!.Value;
        var name = RequiredString(compact, "name", "");
        Validate.Text(name, "name", MeshLimits.MaxDescriptionLength);
        RequiredString(compact, "description", "");
        var version = RequiredString(compact, "version", "");
        Validate.Text(version, "version", MeshLimits.MaxVersionLength);
        CheckInterfaces(compact);
        Required(compact, "capabilities", "", JsonValueKind.Object);
        StringList(Required(compact, "defaultInputModes", "", JsonValueKind.Array), "defaultInputModes");
        StringList(Required(compact, "defaultOutputModes", "", JsonValueKind.Array), "defaultOutputModes");
        if (Optional(compact, "provider", "", JsonValueKind.Object) is { } provider)
        {
            RequiredString(provider, "url", "provider.");
            RequiredString(provider, "organization", "provider.");
        }
        Optional(compact, "securitySchemes", "", JsonValueKind.Object);
        var skills = CheckSkills(Required(compact, "skills", "", JsonValueKind.Array));
        // The compact copy Validate.Json made, as its text: what is stored and served back.
        return new CheckedCard(compact.GetRawText(), compact, name, version, skills);
    }

    /// <summary>The skill ids of a stored card (one this class checked before), to know which specializations came from it.</summary>
    public static IReadOnlyList<string> SkillIds(string storedCard)
    {
        using var document = JsonDocument.Parse(storedCard, RawJsonElementConverter.StoredDocumentOptions);
        return document.RootElement.TryGetProperty("skills", out var skills) && skills.ValueKind == JsonValueKind.Array
            ? skills.EnumerateArray()
                .Select(s => s.ValueKind == JsonValueKind.Object && s.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString()! : null)
                .OfType<string>().ToList()
            : [];
    }

    /// <summary>A2A 1.0: <c>supportedInterfaces</c>, each with a url, a protocol binding and a protocol version. A2A 0.3: a top-level <c>url</c>.</summary>
    private static void CheckInterfaces(JsonElement card)
    {
        if (!card.TryGetProperty("supportedInterfaces", out _) && card.TryGetProperty("url", out _))
        {
            AbsoluteUrl(RequiredString(card, "url", ""), "url");
            return;
        }
        var interfaces = Required(card, "supportedInterfaces", "", JsonValueKind.Array);
        if (interfaces.GetArrayLength() == 0)
        {
            throw MeshException.Invalid("supportedInterfaces", "'supportedInterfaces' must list at least one interface: where and how the agent is reached.");
        }
        var index = 0;
        foreach (var item in interfaces.EnumerateArray())
        {
            var path = $"supportedInterfaces[{index++}]";
            var entry = Object(item, path);
            RequiredString(entry, "url", path + ".");
            RequiredString(entry, "protocolBinding", path + ".");
            RequiredString(entry, "protocolVersion", path + ".");
        }
    }

    private static List<CardSkill> CheckSkills(JsonElement skills)
    {
        if (skills.GetArrayLength() > MaxSkills)
        {
            throw MeshException.Invalid("skills", $"A card may have at most {MaxSkills} skills; each becomes a specialization of the agent.");
        }
        var result = new List<CardSkill>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var index = 0;
        foreach (var item in skills.EnumerateArray())
        {
            var path = $"skills[{index++}]";
            var skill = Object(item, path);
            var id = Validate.Specialization(RequiredString(skill, "id", path + "."), path + ".id");
            if (!seen.Add(id))
            {
                throw MeshException.Invalid(path + ".id", $"'{path}.id' is '{id}', the id of an earlier skill; skill ids must be unique.");
            }
            RequiredString(skill, "name", path + ".");
            var description = RequiredString(skill, "description", path + ".");
            Validate.Text(description, path + ".description", MeshLimits.MaxDescriptionLength);
            var tags = StringList(Required(skill, "tags", path + ".", JsonValueKind.Array), path + ".tags");
            if (Optional(skill, "examples", path + ".", JsonValueKind.Array) is { } examples)
            {
                StringList(examples, path + ".examples");
            }
            foreach (var modes in new[] { "inputModes", "outputModes" })
            {
                if (Optional(skill, modes, path + ".", JsonValueKind.Array) is { } list)
                {
                    StringList(list, $"{path}.{modes}");
                }
            }
            result.Add(new CardSkill(id, description, Validate.Tags(tags, path + ".tags")));
        }
        return result;
    }

    private static JsonElement Object(JsonElement item, string path) =>
        item.ValueKind == JsonValueKind.Object ? item : throw MeshException.Invalid(path, $"'{path}' must be an object.");

    private static string RequiredString(JsonElement owner, string member, string prefix)
    {
        var value = Required(owner, member, prefix, JsonValueKind.String).GetString()!;
        return value.Trim().Length > 0 ? value : throw MeshException.Invalid(prefix + member, $"'{prefix}{member}' must not be empty.");
    }

    private static JsonElement Required(JsonElement owner, string member, string prefix, JsonValueKind kind)
    {
        if (Optional(owner, member, prefix, kind) is { } value)
        {
            return value;
        }
        var snake = SnakeCase(member);
        throw MeshException.Invalid(prefix + member, snake != member && owner.TryGetProperty(snake, out _)
            ? $"'{prefix}{member}' is required; A2A cards spell their fields in camelCase, so '{snake}' (the protobuf name) is not read as it."
            : $"'{prefix}{member}' is required in an A2A Agent Card.");
    }

    private static JsonElement? Optional(JsonElement owner, string member, string prefix, JsonValueKind kind)
    {
        if (!owner.TryGetProperty(member, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        return value.ValueKind == kind
            ? value
            : throw MeshException.Invalid(prefix + member, $"'{prefix}{member}' must be {KindName(kind)}, not {KindName(value.ValueKind)}.");
    }

    private static List<string> StringList(JsonElement array, string path)
    {
        var values = new List<string>();
        var index = 0;
        foreach (var item in array.EnumerateArray())
        {
            var itemPath = $"{path}[{index++}]";
            values.Add(item.ValueKind == JsonValueKind.String && item.GetString()!.Trim().Length > 0
                ? item.GetString()!
                : throw MeshException.Invalid(itemPath, $"'{itemPath}' must be a non-empty string."));
        }
        return values;
    }

    private static void AbsoluteUrl(string value, string path)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw MeshException.Invalid(path, $"'{path}' must be an absolute http or https URL.");
        }
    }

    private static string SnakeCase(string member) =>
        string.Concat(member.Select(c => char.IsUpper(c) ? "_" + char.ToLowerInvariant(c) : c.ToString()));

    private static string KindName(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };
}
