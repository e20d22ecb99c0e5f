using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace SessionMesh.Contracts;

/// <summary>
/// Writes free-form JSON (a payload, a result, an event's data) as one raw value, so an answer that wraps it in a few
/// levels of its own never fails on depth: whatever a store holds can always be read back. Reads as usual, within the
/// reader's depth limit.
/// </summary>
public sealed class RawJsonElementConverter : JsonConverter<JsonElement>
{
    /// <summary>Nesting a stored value may have when it is read back or written out: far past any write-time limit.</summary>
    public const int StoredMaxDepth = 1_000_000;

    /// <summary>How stored JSON is parsed: without the 64-level default that answers were once cut by.</summary>
    public static JsonDocumentOptions StoredDocumentOptions { get; } = new() { MaxDepth = StoredMaxDepth };

    public override JsonElement Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        JsonElement.ParseValue(ref reader);

    public override void Write(Utf8JsonWriter writer, JsonElement value, JsonSerializerOptions options)
    {
        // Compact, with the caller's escaping, and without the caller's depth count.
        var buffer = new ArrayBufferWriter<byte>();
        using (var inner = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = writer.Options.Encoder, MaxDepth = StoredMaxDepth, SkipValidation = true }))
        {
            value.WriteTo(inner);
        }
        writer.WriteRawValue(buffer.WrittenSpan, skipInputValidation: true);
    }
}
