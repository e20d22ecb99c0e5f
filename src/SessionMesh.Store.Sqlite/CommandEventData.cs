using System.Buffers;
using System.Text;
using System.Text.Json;

namespace SessionMesh.Store.Sqlite;

/// <summary>
/// One copy of each command payload. A <c>command.*</c> event's data is the command as it stood (its view), so it
/// repeats the command's <c>payload</c>, <c>result</c>, <c>direction</c> and <c>text</c> — up to a megabyte each, in
/// every event of the command. The store keeps them only in the command's row: the event is written with <c>null</c>
/// in their place and a flag for each field it lifted (<c>events.lifted</c>, with <c>events.command_id</c>), and a read
/// of the event joins the command back and puts the values where they were, so readers see the data as appended.
/// </summary>
/// <remarks>
/// Sound because those fields never change once set: payload, direction and text are written when the command is
/// queued, the result once, when it completes. Retention deletes a completed command only once no event lifted
/// from it is left (<see cref="SqliteMeshStore.ApplyRetentionAsync"/>), so the join always finds it.
/// </remarks>
internal static class CommandEventData
{
    private const int Payload = 1;
    private const int Result = 2;
    private const int Direction = 4;
    private const int Text = 8;

    // A command's payload and result may be stored at any depth (older servers wrote deeper than today's limit).
    private static readonly JsonReaderOptions s_readerOptions = new() { MaxDepth = SessionMesh.Contracts.RawJsonElementConverter.StoredMaxDepth };

    /// <summary>Whether an event of <paramref name="type"/> carries a command view (whose heavy fields can be lifted).</summary>
    public static bool IsCommandEvent(string type) => type.StartsWith("command.", StringComparison.Ordinal);

    /// <summary>
    /// The command id of a command event's data (its JSON, <paramref name="utf8"/>) and the data with its heavy fields
    /// replaced by <c>null</c>, in a pooled buffer the caller disposes; empty (<see cref="LiftedJson.CommandId"/> null)
    /// when the data is not a command view or has nothing to lift.
    /// </summary>
    public static LiftedJson Lift(ReadOnlySpan<byte> utf8)
    {
        var reader = new Utf8JsonReader(utf8, s_readerOptions);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return default;
        }
        // Each lifted value is at least one byte and becomes four ("null"): at most this much longer, with four lifted.
        var output = ArrayPool<byte>.Shared.Rent(utf8.Length + 12);
        string? commandId = null;
        var copied = 0;
        var written = 0;
        var lifted = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var flag = FlagOf(ref reader);
            var isId = reader.ValueTextEquals("command_id"u8);
            reader.Read();
            var start = (int)reader.TokenStartIndex;
            var kind = reader.TokenType;
            if (isId && kind == JsonTokenType.String)
            {
                commandId = reader.GetString();
            }
            reader.Skip();
            var end = (int)reader.BytesConsumed;
            // A field named twice (never in the server's own views) is lifted once: the restore puts it back in both.
            if (flag != 0 && kind != JsonTokenType.Null && (lifted & flag) == 0)
            {
                utf8[copied..start].CopyTo(output.AsSpan(written));
                written += start - copied;
                "null"u8.CopyTo(output.AsSpan(written));
                written += 4;
                copied = end;
                lifted |= flag;
            }
        }
        if (commandId is null || lifted == 0)
        {
            ArrayPool<byte>.Shared.Return(output);
            return default;
        }
        utf8[copied..].CopyTo(output.AsSpan(written));
        written += utf8.Length - copied;
        return new LiftedJson(commandId, output, written, lifted);
    }

    /// <summary>The data as it was appended: each lifted field set back from the command's row (null where the row has none).</summary>
    public static string Restore(string stored, int lifted, string? payload, string? result, string? direction, string? text)
    {
        var utf8 = Encoding.UTF8.GetBytes(stored);
        var reader = new Utf8JsonReader(utf8, s_readerOptions);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return stored;
        }
        var output = new ArrayBufferWriter<byte>(utf8.Length + (payload?.Length ?? 0) + (result?.Length ?? 0) + 64);
        var copied = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var flag = FlagOf(ref reader) & lifted;
            reader.Read();
            var start = (int)reader.TokenStartIndex;
            reader.Skip();
            var end = (int)reader.BytesConsumed;
            var value = flag switch
            {
                Payload => payload,
                Result => result,
                _ => null,
            };
            var stringValue = flag switch
            {
                Direction => direction,
                Text => text,
                _ => null,
            };
            if (value is null && stringValue is null)
            {
                continue;
            }
            output.Write(utf8.AsSpan(copied, start - copied));
            if (value is not null)
            {
                output.Write(Encoding.UTF8.GetBytes(value));
            }
            else
            {
                using var writer = new Utf8JsonWriter(output);
                writer.WriteStringValue(stringValue);
            }
            copied = end;
        }
        output.Write(utf8.AsSpan(copied));
        return Encoding.UTF8.GetString(output.WrittenSpan);
    }

    private static int FlagOf(ref Utf8JsonReader reader) =>
        reader.ValueTextEquals("payload"u8) ? Payload
        : reader.ValueTextEquals("result"u8) ? Result
        : reader.ValueTextEquals("direction"u8) ? Direction
        : reader.ValueTextEquals("text"u8) ? Text
        : 0;
}
