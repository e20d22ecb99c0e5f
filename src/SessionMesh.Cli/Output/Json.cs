using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace SessionMesh.Cli.Output;

/// <summary>Writes values with the shared wire contract, so field names match the API exactly.</summary>
internal static class Json
{
    public static void Write<T>(TextWriter writer, T value, JsonTypeInfo<T> info, bool indented = true)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = indented, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            JsonSerializer.Serialize(json, value, info);
        }
        writer.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
    }
}
