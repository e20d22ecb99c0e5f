using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace SessionMesh.Store.Sqlite;

/// <summary>
/// JSON columns, written and read with <see cref="Utf8JsonWriter"/> and <see cref="Utf8JsonReader"/>
/// (no reflection, so trimming stays clean).
/// </summary>
internal static class SqliteJson
{
    // Relaxed escaping stores non-ASCII characters as themselves, which keeps stored label keys
    // equal to the keys in a json_extract path. The text never reaches a browser.
    private static readonly JsonWriterOptions s_writerOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string WriteLabels(IReadOnlyDictionary<string, string> labels) => Write(labels, static (writer, map) =>
    {
        writer.WriteStartObject();
        foreach (var (key, value) in map)
        {
            writer.WriteString(key, value);
        }
        writer.WriteEndObject();
    });

    public static string WriteStrings(IEnumerable<string> values) => Write(values, static (writer, items) =>
    {
        writer.WriteStartArray();
        foreach (var item in items)
        {
            writer.WriteStringValue(item);
        }
        writer.WriteEndArray();
    });

    public static Dictionary<string, string> ReadLabels(string json)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json));
        Expect(reader.Read() && reader.TokenType == JsonTokenType.StartObject, json);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var key = reader.GetString()!;
            Expect(reader.Read() && reader.TokenType == JsonTokenType.String, json);
            labels[key] = reader.GetString()!;
        }
        return labels;
    }

    public static List<string> ReadStrings(string json)
    {
        var values = new List<string>();
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json));
        Expect(reader.Read() && reader.TokenType == JsonTokenType.StartArray, json);
        while (reader.Read() && reader.TokenType == JsonTokenType.String)
        {
            values.Add(reader.GetString()!);
        }
        return values;
    }

    public static string? WriteProgress(SessionMesh.Model.AgentProgress? progress) =>
        progress is null ? null : JsonSerializer.Serialize(progress, SessionMesh.Contracts.MeshJsonContext.Default.AgentProgress);

    public static SessionMesh.Model.AgentProgress? ReadProgress(string json) =>
        JsonSerializer.Deserialize(json, SessionMesh.Contracts.MeshJsonContext.Default.AgentProgress);

    public static string? WriteBudget(SessionMesh.Model.AgentBudget? budget) =>
        budget is null ? null : JsonSerializer.Serialize(budget, SessionMesh.Contracts.MeshJsonContext.Default.AgentBudget);

    public static SessionMesh.Model.AgentBudget? ReadBudget(string json) =>
        JsonSerializer.Deserialize(json, SessionMesh.Contracts.MeshJsonContext.Default.AgentBudget);

    public static JsonElement ReadElement(string json)
    {
        // No depth limit of its own: a read must never fail on what a write once stored.
        using var document = JsonDocument.Parse(json, SessionMesh.Contracts.RawJsonElementConverter.StoredDocumentOptions);
        return document.RootElement.Clone();
    }

    private static string Write<T>(T value, Action<Utf8JsonWriter, T> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, s_writerOptions))
        {
            write(writer, value);
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void Expect(bool condition, string json)
    {
        if (!condition)
        {
            throw new InvalidDataException($"Malformed JSON column in the store: {json}");
        }
    }
}
