using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace SessionMesh.Contracts;

/// <summary>
/// Serialises with the wire context into one reused buffer and writer per thread, for the hot paths that only need
/// the bytes for a moment: a stream frame written to the response, a page item measured against its byte budget, an
/// event parsed into its record. The bytes are valid until the next call on the same thread, so a caller uses them
/// before it awaits anything.
/// </summary>
public static class ThreadJson
{
    // A buffer grown past this by one large payload is dropped after use rather than kept by the thread.
    private const int KeptCapacity = 256 * 1024;

    private static readonly JsonWriterOptions s_writerOptions = new()
    {
        Encoder = MeshJsonContext.Default.Options.Encoder,
        MaxDepth = MeshJsonContext.Default.Options.MaxDepth,
        SkipValidation = true,
    };

    // Never written to: what the per-thread writer points at between calls, so it holds no caller's buffer.
    private static readonly ArrayBufferWriter<byte> s_detached = new(1);

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? s_threadBuffer;

    [ThreadStatic]
    private static Utf8JsonWriter? s_threadWriter;

    /// <summary><paramref name="value"/> as the API writes it; valid until the next call on this thread.</summary>
    public static ReadOnlyMemory<byte> Serialize<T>(T value, JsonTypeInfo<T> typeInfo)
    {
        var buffer = s_threadBuffer ??= new ArrayBufferWriter<byte>(1024);
        if (buffer.Capacity > KeptCapacity)
        {
            buffer = s_threadBuffer = new ArrayBufferWriter<byte>(1024);
        }
        buffer.ResetWrittenCount();
        var writer = s_threadWriter ??= new Utf8JsonWriter(s_detached, s_writerOptions);
        writer.Reset(buffer);
        try
        {
            JsonSerializer.Serialize(writer, value, typeInfo);
        }
        finally
        {
            writer.Reset(s_detached);
        }
        return buffer.WrittenMemory;
    }
}
