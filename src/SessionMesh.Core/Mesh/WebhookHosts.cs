using System.Net;

namespace SessionMesh.Mesh;

/// <summary>
/// Where webhooks may point: http or https URLs whose host is on the configured allow-list (exact, or <c>*.domain</c>
/// for its subdomains), or a loopback host when loopback is allowed (sandbox mode). Checked when a webhook is created
/// and again before every attempt, so a list narrowed since stops deliveries at once; and each address a host resolves
/// to is checked as the connection is made (<see cref="AllowsAddress"/>, <see cref="WebhookConnections"/>).
/// </summary>
public sealed class WebhookHosts(WebhookOptions options)
{
    private readonly string[] _allowed = options.AllowedHosts
        .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .Select(h => h.TrimEnd('.').ToLowerInvariant())
        .ToArray();

    /// <summary>Parses a webhook URL: absolute http(s), no credentials, an allowed host; otherwise 400 naming <paramref name="field"/> and the host.</summary>
    public Uri Check(string? url, string field = "url")
    {
        if (string.IsNullOrWhiteSpace(url))
        {
            throw MeshException.Invalid(field, $"'{field}' is required: the http or https URL the events are POSTed to.");
        }
        if (url.Length > 2048 || !Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || string.IsNullOrEmpty(uri.Host))
        {
            throw MeshException.Invalid(field, $"'{field}' must be an absolute http or https URL (at most 2048 characters).");
        }
        if (uri.UserInfo.Length > 0)
        {
            throw MeshException.Invalid(field, $"'{field}' must not carry credentials; the receiver authenticates deliveries by their signature.");
        }
        if (RefusalOf(uri) is { } refusal)
        {
            throw MeshException.Invalid(field, refusal);
        }
        return uri;
    }

    /// <summary>Why a delivery to <paramref name="uri"/> is refused, or null when its host is allowed.</summary>
    public string? RefusalOf(Uri uri)
    {
        var host = uri.IdnHost.TrimEnd('.').ToLowerInvariant();
        if (options.AllowLoopback && IsLoopback(host))
        {
            return null;
        }
        foreach (var allowed in _allowed)
        {
            if (allowed == host || (allowed.StartsWith("*.", StringComparison.Ordinal) && host.EndsWith(allowed[1..], StringComparison.Ordinal) && host.Length > allowed.Length - 1))
            {
                return null;
            }
        }
        return _allowed.Length == 0
            ? $"Host '{host}' is not allowed: no webhook host is allowed on this server; set SESSION_MESH_WEBHOOK_ALLOWED_HOSTS (or Mesh:Webhooks:AllowedHosts)."
            : $"Host '{host}' is not on this server's webhook allow-list (SESSION_MESH_WEBHOOK_ALLOWED_HOSTS).";
    }

    /// <summary>
    /// Whether a delivery to <paramref name="host"/> (allowed by <see cref="RefusalOf"/>) may connect to
    /// <paramref name="address"/>, one of the addresses the name resolved to. A host the list names exactly, or an
    /// address literal, is the operator's own choice and may be anywhere. A host allowed only through a wildcard
    /// (<c>*.example.com</c>) may not reach loopback, private, link-local or other internal addresses: whoever controls
    /// a subdomain's DNS could otherwise point deliveries into the server's own network. Loopback is allowed when
    /// loopback is (sandbox mode).
    /// </summary>
    public bool AllowsAddress(string host, IPAddress address)
    {
        host = host.TrimEnd('.').ToLowerInvariant();
        if (options.AllowLoopback && IPAddress.IsLoopback(address))
        {
            return true;
        }
        return IPAddress.TryParse(host.Trim('[', ']'), out _) || _allowed.Contains(host, StringComparer.Ordinal) || !IsInternal(address);
    }

    /// <summary>Loopback, private (RFC 1918, unique local), shared (RFC 6598), link-local, unspecified or multicast.</summary>
    internal static bool IsInternal(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any))
        {
            return true;
        }
        if (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return b[0] is 0 or 10 or >= 224
                || (b[0] == 100 && b[1] is >= 64 and <= 127)
                || (b[0] == 169 && b[1] == 254)
                || (b[0] == 172 && b[1] is >= 16 and <= 31)
                || (b[0] == 192 && b[1] == 168);
        }
        return address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6UniqueLocal || address.IsIPv6Multicast;
    }

    private static bool IsLoopback(string host) =>
        host == "localhost" || host.EndsWith(".localhost", StringComparison.Ordinal)
        || (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));
}
