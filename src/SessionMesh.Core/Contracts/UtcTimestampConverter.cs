using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace SessionMesh.Contracts;

/// <summary>Writes times as RFC 3339 UTC with millisecond precision (<c>2026-11-25T21:38:53.120Z</c>); reads any RFC 3339 time.</summary>
public sealed class UtcTimestampConverter : JsonConverter<DateTimeOffset>
{
    public const string Format = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.GetDateTimeOffset().ToUniversalTime();

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options)
    {
        // Formatted in place: every answer carries a few times, and a string each was a good part of a heartbeat's garbage.
        Span<byte> text = stackalloc byte[32];
        if (!value.UtcDateTime.TryFormat(text, out var written, Format, CultureInfo.InvariantCulture))
        {
            throw new FormatException($"The time {value:O} does not fit the wire format.");
        }
        writer.WriteStringValue(text[..written]);
    }
}
