using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using SessionMesh.Model;

namespace SessionMesh.Mesh;

/// <summary>
/// The bytes of the events <see cref="RecentEvents"/> holds, encoded one after another in large chunks that live as
/// long as the server. Held as objects, the latest ten thousand events (each a record, its strings and a parsed JSON
/// document) outlived every young-generation collection and were copied into the older ones, a few megabytes each
/// time: the larger part of the collector's pauses with a fleet of streams. Here an event is one copy into a chunk
/// the collector never moves, and a read of an older event decodes a short-lived copy. Not thread-safe: its owner locks.
/// </summary>
internal sealed class EventArchive(long maxBytes = RecentEvents.DefaultMaxBytes)
{
    /// <summary>The size of a chunk: large enough for the large-object heap, so a chunk is never copied.</summary>
    internal const int ChunkSize = 256 * 1024;

    /// <summary>The smallest chunk, for a byte budget too small for whole ones.</summary>
    internal const int MinChunkSize = 4 * 1024;

    // A quarter of the budget at most, so the chunks in use and the spare ones stay about within it.
    private readonly int _chunkSize = (int)Math.Clamp(maxBytes / 4, MinChunkSize, ChunkSize);

    /// <summary>Emptied chunks kept for reuse; any more go back to the collector.</summary>
    private const int SpareChunks = 2;

    private const int NullLength = -1;
    private const int UndefinedLength = -2;

    private readonly Stack<Chunk> _spare = new();
    private Chunk? _current;

    /// <summary>One chunk of encoded events, and how many of them are still held.</summary>
    internal sealed class Chunk(int size)
    {
        public byte[] Bytes { get; } = GC.AllocateUninitializedArray<byte>(size);
        public int Used { get; set; }
        public int Held { get; set; }
    }

    /// <summary>Where <see cref="Append"/> put an event.</summary>
    internal readonly record struct Location(Chunk Chunk, int Offset, int Length);

    /// <summary>Encodes <paramref name="e"/> (all but its revision) after the events appended before it.</summary>
    public Location Append(MeshEventRecord e)
    {
        var data = e.Data switch
        {
            null => default,
            { ValueKind: JsonValueKind.Undefined } => default,
            { } element => JsonMarshal.GetRawUtf8Value(element),
        };
        var length = sizeof(long) + sizeof(short) + SizeOf(e.Cluster) + SizeOf(e.Type) + SizeOf(e.AgentId) + SizeOf(e.SessionId) + sizeof(int) + data.Length;
        var chunk = ChunkFor(length);
        var offset = chunk.Used;
        var span = chunk.Bytes.AsSpan(offset, length);
        BinaryPrimitives.WriteInt64LittleEndian(span, e.At.UtcTicks);
        BinaryPrimitives.WriteInt16LittleEndian(span[sizeof(long)..], (short)e.At.TotalOffsetMinutes);
        var at = sizeof(long) + sizeof(short);
        at += Write(span[at..], e.Cluster);
        at += Write(span[at..], e.Type);
        at += Write(span[at..], e.AgentId);
        at += Write(span[at..], e.SessionId);
        BinaryPrimitives.WriteInt32LittleEndian(span[at..], e.Data switch
        {
            null => NullLength,
            { ValueKind: JsonValueKind.Undefined } => UndefinedLength,
            _ => data.Length,
        });
        data.CopyTo(span[(at + sizeof(int))..]);
        chunk.Used += length;
        chunk.Held++;
        return new Location(chunk, offset, length);
    }

    /// <summary>A copy of the event at <paramref name="location"/>, with <paramref name="revision"/>; it owns all its memory.</summary>
    public static MeshEventRecord Read(long revision, Location location)
    {
        ReadOnlySpan<byte> span = location.Chunk.Bytes.AsSpan(location.Offset, location.Length);
        var offsetMinutes = BinaryPrimitives.ReadInt16LittleEndian(span[sizeof(long)..]);
        var at = new DateTimeOffset(BinaryPrimitives.ReadInt64LittleEndian(span) + offsetMinutes * TimeSpan.TicksPerMinute, TimeSpan.FromMinutes(offsetMinutes));
        var position = sizeof(long) + sizeof(short);
        var cluster = ReadString(span, ref position)!;
        var type = ReadString(span, ref position)!;
        var agentId = ReadString(span, ref position);
        var sessionId = ReadString(span, ref position);
        var dataLength = BinaryPrimitives.ReadInt32LittleEndian(span[position..]);
        position += sizeof(int);
        JsonElement? data = dataLength switch
        {
            NullLength => null,
            UndefinedLength => default(JsonElement),
            _ => JsonElement.Parse(span.Slice(position, dataLength)),
        };
        return new MeshEventRecord(revision, cluster, type, at, agentId, sessionId, data);
    }

    /// <summary>The event at <paramref name="location"/> is no longer held; a chunk none are held in is reused.</summary>
    public void Release(Location location)
    {
        var chunk = location.Chunk;
        if (--chunk.Held > 0 || chunk == _current)
        {
            return;
        }
        if (chunk.Bytes.Length == _chunkSize && _spare.Count < SpareChunks)
        {
            chunk.Used = 0;
            _spare.Push(chunk);
        }
    }

    // The current chunk when the event fits in what is left of it; else a fresh one (its own, for an event larger than a chunk).
    private Chunk ChunkFor(int length)
    {
        if (_current is { } current && _chunkSize - current.Used >= length)
        {
            return current;
        }
        if (length > _chunkSize)
        {
            // Not made current: the next event goes on in the current chunk, or starts one of the usual size.
            return new Chunk(length);
        }
        if (_current is { Held: 0 } emptied && _spare.Count < SpareChunks)
        {
            emptied.Used = 0;
            _spare.Push(emptied);
        }
        _current = _spare.TryPop(out var spare) ? spare : new Chunk(_chunkSize);
        return _current;
    }

    private static int SizeOf(string? value) => sizeof(int) + (value is null ? 0 : Encoding.UTF8.GetByteCount(value));

    private static int Write(Span<byte> span, string? value)
    {
        if (value is null)
        {
            BinaryPrimitives.WriteInt32LittleEndian(span, NullLength);
            return sizeof(int);
        }
        var written = Encoding.UTF8.GetBytes(value, span[sizeof(int)..]);
        BinaryPrimitives.WriteInt32LittleEndian(span, written);
        return sizeof(int) + written;
    }

    private static string? ReadString(ReadOnlySpan<byte> span, ref int position)
    {
        var length = BinaryPrimitives.ReadInt32LittleEndian(span[position..]);
        position += sizeof(int);
        if (length == NullLength)
        {
            return null;
        }
        var value = Encoding.UTF8.GetString(span.Slice(position, length));
        position += length;
        return value;
    }
}
