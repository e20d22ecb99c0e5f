namespace SessionMesh.Client.Http;

/// <summary>
/// Sends each attempt to the current replica of the mesh, and when that replica cannot be connected to at all (refused,
/// unreachable, no such host, connect timeout) moves on to the next one at once and resends there: a request that never
/// reached a server is safe to send to another, whatever its method. The client stays on the replica that answered, so
/// a dead replica costs one failed connect, not one per request. With a single server it only passes requests through.
/// </summary>
internal sealed class FailoverHandler : DelegatingHandler
{
    private readonly Uri[] _servers;
    private int _current;

    public FailoverHandler(IReadOnlyList<Uri> servers)
    {
        _servers = [.. servers];
    }

    /// <summary>The replica requests go to now.</summary>
    public Uri Current => _servers[Volatile.Read(ref _current)];

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (_servers.Length == 1)
        {
            return await base.SendAsync(request, cancellationToken);
        }
        for (var tried = 1; ; tried++)
        {
            var index = Volatile.Read(ref _current);
            request.RequestUri = OnServer(request.RequestUri!, _servers[index]);
            try
            {
                return await base.SendAsync(request, cancellationToken);
            }
            catch (Exception ex) when (tried < _servers.Length && NeverReachedServer(ex, cancellationToken))
            {
                // Another request may have moved on already: move only from the replica this one found dead.
                Interlocked.CompareExchange(ref _current, (index + 1) % _servers.Length, index);
            }
        }
    }

    /// <summary>The same path and query on another replica.</summary>
    internal static Uri OnServer(Uri uri, Uri server) =>
        new UriBuilder(uri) { Scheme = server.Scheme, Host = server.Host, Port = server.Port }.Uri;

    /// <summary>True when the attempt failed before any byte of it could reach a server.</summary>
    internal static bool NeverReachedServer(Exception exception, CancellationToken cancellationToken) => exception switch
    {
        HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError } => true,
        // SocketsHttpHandler's ConnectTimeout ends the connect with a cancellation the caller did not ask for.
        OperationCanceledException { InnerException: TimeoutException } => !cancellationToken.IsCancellationRequested,
        _ => false,
    };
}
