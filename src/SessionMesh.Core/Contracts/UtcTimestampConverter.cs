using System.Buffers;
using System.Buffers.Text;
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
        // The round-trip format of a UTC time (yyyy-MM-ddTHH:mm:ss.fffffffZ) has the runtime's fast path, where a custom
        // format is parsed on every call; cut to milliseconds it is the wire format ("fff" truncates too).
        Span<byte> text = stackalloc byte[RoundTripLength];
        if (!Utf8Formatter.TryFormat(value.UtcDateTime, text, out var written, s_roundTrip) || written != RoundTripLength)
        {
            throw new FormatException($"The time {value:O} does not fit the wire format.");
        }
        text[MillisecondsEnd] = (byte)'Z';
        writer.WriteStringValue(text[..(MillisecondsEnd + 1)]);
    }

    private static readonly StandardFormat s_roundTrip = new('O');

    /// <summary>Length of <c>yyyy-MM-ddTHH:mm:ss.fffffffZ</c>.</summary>
    private const int RoundTripLength = 28;

    /// <summary>Where <c>yyyy-MM-ddTHH:mm:ss.fff</c> ends.</summary>
    private const int MillisecondsEnd = 23;
}
