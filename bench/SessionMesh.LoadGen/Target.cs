using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;

namespace SessionMesh.LoadGen;

/// <summary>
/// One process the bench drives: where it listens (always loopback), its key if it takes one, and the temp directory it
/// writes to. Disposing kills the process and deletes the directory.
/// </summary>
internal sealed class Target : IAsyncDisposable
{
    public Target(string name, ChildProcess process, Uri baseAddress, string? key, string? dataDir, string description)
    {
        if (!IPAddress.TryParse(baseAddress.Host, out var ip) || !IPAddress.IsLoopback(ip))
        {
            throw new InvalidOperationException($"{name} must listen on loopback only, not {baseAddress}.");
        }
        Name = name;
        Process = process;
        BaseAddress = baseAddress;
        Key = key;
        DataDir = dataDir;
        Description = description;
    }

    public string Name { get; }

    public ChildProcess Process { get; }

    /// <summary>The root, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri BaseAddress { get; }

    /// <summary>The bearer key of every authenticated call (the mesh's root key); null for a target without keys.</summary>
    public string? Key { get; }

    /// <summary>The temp directory the target writes to, deleted on dispose; null for one that writes nothing.</summary>
    public string? DataDir { get; }

    /// <summary>What runs, for the report: the dll or binary and its version.</summary>
    public string Description { get; }

    /// <summary>A client with its own connection pool (so N clients are N connections), no proxy, with the key when asked.</summary>
    public HttpClient CreateClient(bool authenticated, TimeSpan timeout)
    {
        var handler = new SocketsHttpHandler { PooledConnectionLifetime = Timeout.InfiniteTimeSpan, UseProxy = false };
        return Client(handler, BaseAddress, authenticated ? Key : null, timeout);
    }

    /// <summary>
    /// One client for thousands of long-lived streams: HTTP/1.1, one connection per open request, no cap on them. Above
    /// about 28,000 connections one source address runs out of ephemeral ports (a 4-tuple must be unique), so with
    /// <paramref name="sourceAddresses"/> &gt; 1 the connections are spread over 127.0.0.1, 127.0.0.2, ... (all loopback).
    /// </summary>
    public HttpClient CreateStreamClient(int sourceAddresses) => StreamClient(BaseAddress, Key, sourceAddresses);

    /// <summary><see cref="CreateStreamClient"/> for any address and key (a stream host has no <see cref="Target"/>).</summary>
    public static HttpClient StreamClient(Uri baseAddress, string? key, int sourceAddresses)
    {
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = int.MaxValue,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            UseProxy = false,
        };
        if (sourceAddresses > 1)
        {
            var next = 0;
            handler.ConnectCallback = async (context, cancellationToken) =>
            {
                var source = new IPAddress([127, 0, 0, (byte)(1 + ((uint)Interlocked.Increment(ref next) % (uint)sourceAddresses))]);
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new IPEndPoint(source, 0));
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            };
        }
        return Client(handler, baseAddress, key, Timeout.InfiniteTimeSpan);
    }

    private static HttpClient Client(SocketsHttpHandler handler, Uri baseAddress, string? key, TimeSpan timeout)
    {
        var client = new HttpClient(handler) { BaseAddress = baseAddress, Timeout = timeout };
        if (key is { Length: > 0 })
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Process.DisposeAsync();
        }
        finally
        {
            if (DataDir is not null)
            {
                DeleteDirectory(DataDir);
            }
        }
    }

    public static void DeleteDirectory(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"loadgen: could not delete {path}: {ex.Message}");
        }
    }
}
