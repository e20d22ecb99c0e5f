using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace SessionMesh.Cli.Output;

/// <summary>
/// Writes values as YAML with the same field names as the JSON output (it goes through the shared wire contract
/// first). Strings that YAML would read as something else are double-quoted, JSON-style, which YAML accepts.
/// </summary>
internal static class Yaml
{
    private static readonly JsonSerializerOptions s_quoting = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Writes one document; <paramref name="stream"/> starts it with <c>---</c> so a stream of them stays one valid YAML stream.</summary>
    public static void Write<T>(TextWriter writer, T value, JsonTypeInfo<T> info, bool stream = false)
    {
        var element = JsonSerializer.SerializeToElement(value, info);
        if (stream)
        {
            writer.WriteLine("---");
        }
        if (element.ValueKind is JsonValueKind.Object or JsonValueKind.Array && HasItems(element))
        {
            WriteBlock(writer, element, 0);
        }
        else
        {
            writer.WriteLine(Scalar(element));
        }
    }

    private static void WriteBlock(TextWriter writer, JsonElement element, int indent)
    {
        var pad = new string(' ', indent);
        if (element.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in element.EnumerateObject())
            {
                WriteEntry(writer, pad + Key(property.Name) + ":", property.Value, indent, nestedIndent: indent + 2);
            }
            return;
        }
        foreach (var item in element.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.Object && HasItems(item))
            {
                // "- first: x" then the other fields aligned under "first".
                var first = true;
                foreach (var property in item.EnumerateObject())
                {
                    var prefix = (first ? pad + "- " : pad + "  ") + Key(property.Name) + ":";
                    WriteEntry(writer, prefix, property.Value, indent + 2, nestedIndent: indent + 4);
                    first = false;
                }
            }
            else
            {
                WriteEntry(writer, pad + "-", item, indent, nestedIndent: indent + 2);
            }
        }
    }

    private static void WriteEntry(TextWriter writer, string prefix, JsonElement value, int indent, int nestedIndent)
    {
        if (value.ValueKind is JsonValueKind.Object or JsonValueKind.Array && HasItems(value))
        {
            writer.WriteLine(prefix);
            // A list under a key sits at the key's own indentation, as kubectl prints it.
            WriteBlock(writer, value, value.ValueKind == JsonValueKind.Array && !prefix.EndsWith('-') ? indent : nestedIndent);
            return;
        }
        writer.WriteLine($"{prefix} {Scalar(value)}");
    }

    private static bool HasItems(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => element.EnumerateObject().Any(),
        JsonValueKind.Array => element.GetArrayLength() > 0,
        _ => false,
    };

    private static string Key(string name) => NeedsQuotes(name) ? Quote(name) : name;

    private static string Scalar(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "{}",
        JsonValueKind.Array => "[]",
        JsonValueKind.Null or JsonValueKind.Undefined => "null",
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Number => value.GetRawText(),
        _ => value.GetString() is { } text && !NeedsQuotes(text) ? text : Quote(value.GetString() ?? ""),
    };

    private static string Quote(string text) => JsonSerializer.Serialize(text, s_quoting);

    // Plain scalars YAML would misread: empty, numbers, booleans, nulls, leading indicators, ": " and " #".
    private static bool NeedsQuotes(string text) =>
        text.Length == 0
        || text != text.Trim()
        || "-?:,[]{}#&*!|>'\"%@`~".Contains(text[0], StringComparison.Ordinal)
        || text.Contains(": ", StringComparison.Ordinal) || text.EndsWith(':') || text.Contains(" #", StringComparison.Ordinal)
        || text.Any(c => char.IsControl(c))
        || double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _)
        || text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) || text.StartsWith("0o", StringComparison.OrdinalIgnoreCase)
        || text.ToLowerInvariant() is "true" or "false" or "yes" or "no" or "on" or "off" or "y" or "n" or "null" or ".inf" or "-.inf" or ".nan";
}
