using System.Net;
using System.Net.Http.Headers;

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
        var client = new HttpClient(handler) { BaseAddress = BaseAddress, Timeout = timeout };
        if (authenticated && Key is { Length: > 0 })
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key);
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
