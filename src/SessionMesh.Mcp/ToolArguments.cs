using System.Text.Json;
using SessionMesh.Mesh;

namespace SessionMesh.Mcp;

/// <summary>
/// Checks a call's arguments against the tool's input schema before the SDK binds them, so bad input is refused the
/// way the API refuses it — <c>validation_failed</c> naming the argument — rather than as an anonymous failure: an
/// argument the tool does not have, or a value of the wrong JSON type.
/// </summary>
internal static class ToolArguments
{
    public static void Check(JsonElement inputSchema, IDictionary<string, JsonElement>? arguments)
    {
        if (arguments is null)
        {
            return;
        }
        var properties = inputSchema.ValueKind == JsonValueKind.Object && inputSchema.TryGetProperty("properties", out var p) ? p : default;
        foreach (var (name, value) in arguments)
        {
            if (properties.ValueKind != JsonValueKind.Object || !properties.TryGetProperty(name, out var property))
            {
                throw MeshException.Invalid(name, $"'{name}' is not an argument of this tool; see its input schema.");
            }
            var types = TypesOf(property);
            if (types.Count > 0 && !types.Any(type => Fits(type, value)))
            {
                throw MeshException.Invalid(name, $"'{name}' must be {string.Join(" or ", types.Where(t => t != "null"))}, not {Describe(value)}.");
            }
        }
    }

    /// <summary>The JSON types the schema allows (empty: anything).</summary>
    private static List<string> TypesOf(JsonElement property)
    {
        if (property.ValueKind != JsonValueKind.Object || !property.TryGetProperty("type", out var type))
        {
            return [];
        }
        return type.ValueKind switch
        {
            JsonValueKind.String => [type.GetString()!],
            JsonValueKind.Array => type.EnumerateArray().Where(t => t.ValueKind == JsonValueKind.String).Select(t => t.GetString()!).ToList(),
            _ => [],
        };
    }

    private static bool Fits(string type, JsonElement value) => type switch
    {
        "string" => value.ValueKind == JsonValueKind.String,
        "integer" => value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out _),
        "number" => value.ValueKind == JsonValueKind.Number,
        "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "array" => value.ValueKind == JsonValueKind.Array,
        "object" => value.ValueKind == JsonValueKind.Object,
        "null" => value.ValueKind == JsonValueKind.Null,
        _ => true,
    };

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        _ => "null",
    };
}
