using System.Text.Json;
using System.Text.Json.Serialization;

namespace SessionMesh.Contracts;

/// <summary>Reads a specialization given as <c>"name"</c> or as <c>{"name": ..., "description": ...}</c>.</summary>
public sealed class SpecializationInputConverter : JsonConverter<SpecializationInput>
{
    public override SpecializationInput? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            return new SpecializationInput { Name = reader.GetString() };
        }
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("A specialization is a name or an object with a \"name\".");
        }
        SpecializationInputBody body;
        try
        {
            body = JsonSerializer.Deserialize(ref reader, MeshJsonContext.Default.SpecializationInputBody)
                ?? throw new JsonException("A specialization object cannot be null.");
        }
        catch (JsonException inner) when (inner.Path is not null)
        {
            // Rethrown without a path, so the outer serializer puts the full one (specializations[0]...) on it.
            throw new JsonException(inner.Message.Split(" Path:")[0], inner);
        }
        return new SpecializationInput { Name = body.Name, Description = body.Description, Tags = body.Tags, Version = body.Version };
    }

    public override void Write(Utf8JsonWriter writer, SpecializationInput value, JsonSerializerOptions options)
    {
        var body = new SpecializationInputBody { Name = value.Name, Description = value.Description, Tags = value.Tags, Version = value.Version };
        JsonSerializer.Serialize(writer, body, MeshJsonContext.Default.SpecializationInputBody);
    }
}

/// <summary>The object form of <see cref="SpecializationInput"/> on the wire.</summary>
public sealed record SpecializationInputBody
{
    public string? Name { get; init; }
    public string? Description { get; init; }
    public List<string>? Tags { get; init; }
    public string? Version { get; init; }
}
