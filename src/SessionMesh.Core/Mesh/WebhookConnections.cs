using System.Net;
using System.Net.Sockets;

namespace SessionMesh.Mesh;

/// <summary>
/// The connections webhook deliveries go through: no redirects, no cookies, and each connection made only to an address
/// <see cref="WebhookHosts.AllowsAddress"/> accepts for its host — resolved and checked as the connection is made, so a
/// name cannot be re-pointed between the check and the connect.
/// </summary>
public static class WebhookConnections
{
    /// <summary>Resolves a host name to its addresses.</summary>
    public delegate Task<IPAddress[]> Resolver(string host, CancellationToken cancellationToken);

    /// <summary>The delivery client's handler; <paramref name="resolve"/> replaces DNS (tests).</summary>
    public static SocketsHttpHandler CreateHandler(WebhookHosts hosts, Resolver? resolve = null)
    {
        var resolver = resolve ?? Dns.GetHostAddressesAsync;
        return new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            ConnectCallback = (context, cancellationToken) => ConnectAsync(hosts, resolver, context, cancellationToken),
        };
    }

    private static async ValueTask<Stream> ConnectAsync(WebhookHosts hosts, Resolver resolve, SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var endPoint = context.DnsEndPoint;
        var host = endPoint.Host;
        // A connection to an HTTP proxy (HTTP_PROXY, HTTPS_PROXY) the operator set, not to the webhook's host: the proxy
        // resolves that host, so the address check is the proxy's to make.
        var toProxy = !string.Equals(host, context.InitialRequestMessage.RequestUri?.IdnHost, StringComparison.OrdinalIgnoreCase);
        var addresses = IPAddress.TryParse(host.Trim('[', ']'), out var literal) ? [literal] : await resolve(host, cancellationToken);
        var allowed = toProxy ? addresses : addresses.Where(a => hosts.AllowsAddress(host, a)).ToArray();
        if (allowed.Length == 0)
        {
            throw new HttpRequestException(HttpRequestError.ConnectionError, addresses.Length == 0
                ? $"Host '{host}' resolved to no address."
                : $"Host '{host}' resolved only to internal addresses ({string.Join(", ", addresses.Select(a => a.ToString()))}), which a host allowed by a wildcard may not reach; name it exactly in the allow-list to allow them.");
        }
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, endPoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
