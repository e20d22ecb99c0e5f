using System.Net.Sockets;
using System.Text;

namespace SessionMesh.Tests.Infrastructure;

/// <summary>
/// A bare TCP connection speaking HTTP/1.1 by hand: for clients no HttpClient would be — thousands held open at
/// little cost, headers or bodies sent a byte at a time.
/// </summary>
public sealed class RawConnection : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private readonly StringBuilder _received = new();
    private readonly byte[] _buffer = new byte[4096];

    private RawConnection(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    /// <summary>Everything read so far.</summary>
    public string Received => _received.ToString();

    /// <summary>True once the server closed its side (a read returned nothing).</summary>
    public bool ClosedByServer { get; private set; }

    public static async Task<RawConnection> OpenAsync(Uri server, CancellationToken cancellationToken)
    {
        var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync(server.Host, server.Port, cancellationToken);
        return new RawConnection(tcp);
    }

    public async Task SendAsync(string text, CancellationToken cancellationToken) =>
        await _stream.WriteAsync(Encoding.ASCII.GetBytes(text), cancellationToken);

    /// <summary>Reads until what was received contains <paramref name="marker"/> (<paramref name="times"/> times); false if the server closed first.</summary>
    public async Task<bool> ReadUntilAsync(string marker, CancellationToken cancellationToken, int times = 1)
    {
        while (Count(marker) < times)
        {
            if (!await ReadOnceAsync(cancellationToken))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>One read; false when the server closed the connection (or reset it).</summary>
    public async Task<bool> ReadOnceAsync(CancellationToken cancellationToken)
    {
        int read;
        try
        {
            read = await _stream.ReadAsync(_buffer, cancellationToken);
        }
        catch (IOException)
        {
            read = 0;
        }
        if (read == 0)
        {
            ClosedByServer = true;
            return false;
        }
        _received.Append(Encoding.ASCII.GetString(_buffer, 0, read));
        return true;
    }

    private int Count(string marker)
    {
        var text = _received.ToString();
        var count = 0;
        for (var at = text.IndexOf(marker, StringComparison.Ordinal); at >= 0; at = text.IndexOf(marker, at + marker.Length, StringComparison.Ordinal))
        {
            count++;
        }
        return count;
    }

    public ValueTask DisposeAsync()
    {
        _stream.Dispose();
        _tcp.Dispose();
        return ValueTask.CompletedTask;
    }
}
