using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace SessionMesh.Mesh;

public static partial class Validate
{
    // Stored and answered as written: non-ASCII stays itself, so the size cap counts what is kept.
    private static readonly JsonWriterOptions s_compactWriter = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// A free-form JSON field (<c>payload</c>, <c>result</c>): at most <see cref="MeshLimits.MaxJsonDepth"/> levels of
    /// nesting, every string and member name valid text (no invalid UTF-8, no lone surrogate escape), and at most
    /// <paramref name="maxBytes"/> bytes once written compactly. Returns the compact copy that is stored, so what a
    /// reader gets back is bounded by what was checked here.
    /// </summary>
    public static JsonElement? Json(JsonElement? value, string field, int maxBytes)
    {
        if (value is not { ValueKind: not JsonValueKind.Undefined } element)
        {
            return null;
        }
        CheckShape(element, field);
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, s_compactWriter))
        {
            element.WriteTo(writer);
        }
        if (buffer.WrittenCount > maxBytes)
        {
            throw MeshException.Invalid(field, $"'{field}' is {buffer.WrittenCount} bytes of JSON; at most {maxBytes} are allowed.");
        }
        using var document = JsonDocument.Parse(buffer.WrittenMemory);
        return document.RootElement.Clone();
    }

    /// <summary>Walks the value without recursion: depth, and text of every string and member name.</summary>
    private static void CheckShape(JsonElement root, string field)
    {
        var pending = new Stack<(JsonElement Element, int Depth, string Path)>();
        pending.Push((root, 0, field));
        while (pending.TryPop(out var item))
        {
            var (element, depth, path) = item;
            switch (element.ValueKind)
            {
                case JsonValueKind.Object:
                    CheckDepth(depth + 1, field, path);
                    foreach (var member in element.EnumerateObject())
                    {
                        var name = TextOf(() => member.Name, field, path);
                        pending.Push((member.Value, depth + 1, $"{path}.{name}"));
                    }
                    break;
                case JsonValueKind.Array:
                    CheckDepth(depth + 1, field, path);
                    var index = 0;
                    foreach (var child in element.EnumerateArray())
                    {
                        pending.Push((child, depth + 1, $"{path}[{index++}]"));
                    }
                    break;
                case JsonValueKind.String:
                    TextOf(element.GetString, field, path);
                    break;
            }
        }
    }

    private static void CheckDepth(int depth, string field, string path)
    {
        if (depth > MeshLimits.MaxJsonDepth)
        {
            throw MeshException.Invalid(field, $"'{field}' is nested deeper than {MeshLimits.MaxJsonDepth} levels (at {path}).");
        }
    }

    /// <summary>A string of the value, or a 400 when its bytes are not valid UTF-8 or it escapes a lone surrogate.</summary>
    private static string TextOf(Func<string?> read, string field, string path)
    {
        try
        {
            return read() ?? "";
        }
        catch (InvalidOperationException)
        {
            throw MeshException.Invalid(field, $"'{field}' holds text that is not valid Unicode (invalid UTF-8 or a lone surrogate) at {path}.");
        }
    }
}
