using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace SessionMesh.Server.Sandbox;

/// <summary>
/// The body of an event-stream response in sandbox mode: passes every byte through, counts the frames
/// (each ends with a blank line), and after each complete frame drops the connection with probability
/// <see cref="FaultSettings.DropStream"/>: no <c>end</c> frame, no clean end of the response, as when a
/// proxy or the network cuts a long-lived stream. The frame itself is delivered first.
/// </summary>
internal sealed class StreamDropper(Stream inner, HttpContext context, FaultInjector faults, ILogger logger) : Stream
{
    /// <summary>
    /// How long the connection stays up after the last frame is flushed before it is aborted. An abort
    /// discards whatever the server has not yet handed to the socket; this gives the frame time to go.
    /// </summary>
    public static readonly TimeSpan DeliveryGrace = TimeSpan.FromMilliseconds(100);

    private bool _atLineStart = true;
    private bool _blockHasField;
    private bool _dropped;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await inner.WriteAsync(buffer, cancellationToken);
        if (ShouldDrop(buffer.Span))
        {
            await inner.FlushAsync(cancellationToken);
            await Task.Delay(DeliveryGrace, cancellationToken);
            Drop();
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        inner.Write(buffer);
        if (ShouldDrop(buffer))
        {
            inner.Flush();
            Drop();
        }
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override void Flush() => inner.Flush();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <summary>Counts the frames <paramref name="written"/> completes, rolling the drop rate once for each.</summary>
    private bool ShouldDrop(ReadOnlySpan<byte> written)
    {
        if (_dropped || !(context.Response.ContentType?.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase) ?? false))
        {
            return false;
        }
        var drop = false;
        foreach (var b in written)
        {
            if (b == (byte)'\r')
            {
                continue;
            }
            if (_atLineStart)
            {
                if (b == (byte)'\n')
                {
                    // A blank line ends a frame; a block of comments only (": connected", ": keep-alive") is no frame.
                    drop |= _blockHasField && faults.Roll(faults.Current.DropStream);
                    _blockHasField = false;
                    continue;
                }
                _blockHasField |= b != (byte)':';
                _atLineStart = false;
            }
            else if (b == (byte)'\n')
            {
                _atLineStart = true;
            }
        }
        return drop;
    }

    private void Drop()
    {
        _dropped = true;
        FaultInjectionMiddleware.LogDropped(logger, context.Request.Method, context.Request.Path);
        context.Abort();
    }
}
