using System.Net;
using SessionMesh.Mesh;

namespace SessionMesh.Tests.Webhooks;

/// <summary>
/// Where a delivery may connect: a host named exactly in the allow-list (or an address literal) anywhere; a host allowed
/// only through a wildcard not to loopback, private, link-local or other internal addresses (its DNS could be pointed
/// there), unless loopback is allowed (sandbox). Checked on the addresses a connection is actually made to.
/// </summary>
public sealed class WebhookAddressTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static WebhookHosts Hosts(string allowed, bool loopback = false) => new(new WebhookOptions { AllowedHosts = allowed, AllowLoopback = loopback });

    [Theory]
    [InlineData("hooks.example.com", "10.0.0.7", true)]
    [InlineData("hooks.example.com", "127.0.0.1", true)]
    [InlineData("a.example.net", "93.184.216.34", true)]
    [InlineData("a.example.net", "2606:2800:220:1::1", true)]
    [InlineData("a.example.net", "10.0.0.7", false)]
    [InlineData("a.example.net", "172.20.1.1", false)]
    [InlineData("a.example.net", "192.168.1.1", false)]
    [InlineData("a.example.net", "169.254.169.254", false)]
    [InlineData("a.example.net", "100.64.0.1", false)]
    [InlineData("a.example.net", "127.0.0.1", false)]
    [InlineData("a.example.net", "0.0.0.0", false)]
    [InlineData("a.example.net", "::1", false)]
    [InlineData("a.example.net", "fd00::1", false)]
    [InlineData("a.example.net", "fe80::1", false)]
    [InlineData("a.example.net", "::ffff:192.168.1.1", false)]
    [InlineData("A.Example.Net.", "10.0.0.7", false)]
    [InlineData("10.0.0.7", "10.0.0.7", true)]
    public void An_exactly_named_host_may_be_anywhere_and_a_wildcard_one_only_outside(string host, string address, bool allowed) =>
        Assert.Equal(allowed, Hosts("hooks.example.com, *.example.net, 10.0.0.7").AllowsAddress(host, IPAddress.Parse(address)));

    [Fact]
    public void Loopback_is_allowed_to_any_host_when_loopback_is()
    {
        Assert.True(Hosts("*.example.net", loopback: true).AllowsAddress("a.example.net", IPAddress.Loopback));
        Assert.False(Hosts("*.example.net", loopback: true).AllowsAddress("a.example.net", IPAddress.Parse("10.0.0.7")));
    }

    [Fact]
    public async Task A_wildcard_host_that_resolves_to_an_internal_address_is_not_connected_to()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var url = new UriBuilder(receiver.Url) { Host = "hook.example.net" }.Uri;
        Task<IPAddress[]> ToLoopback(string host, CancellationToken _) => Task.FromResult(host == "hook.example.net" ? new[] { IPAddress.Loopback } : []);

        using var wildcard = new HttpClient(WebhookConnections.CreateHandler(Hosts("*.example.net"), ToLoopback));
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => wildcard.PostAsync(url, new StringContent("{}"), Ct));
        Assert.Equal(HttpRequestError.ConnectionError, refused.HttpRequestError);
        Assert.Contains("internal addresses (127.0.0.1)", refused.Message, StringComparison.Ordinal);
        Assert.Empty(receiver.Received);

        using var named = new HttpClient(WebhookConnections.CreateHandler(Hosts("hook.example.net"), ToLoopback));
        using var delivered = await named.PostAsync(url, new StringContent("{}"), Ct);
        Assert.Equal(HttpStatusCode.OK, delivered.StatusCode);
        Assert.Single(receiver.Received);
    }

    [Fact]
    public async Task A_proxy_the_operator_set_is_connected_to_wherever_it_is()
    {
        // The receiver stands in for the proxy: it takes the absolute-form request the proxy would forward.
        await using var proxy = await WebhookReceiver.StartAsync();
        Task<IPAddress[]> ProxyOnLoopback(string host, CancellationToken _) => Task.FromResult(host == "proxy.internal" ? new[] { IPAddress.Loopback } : []);
        var handler = WebhookConnections.CreateHandler(Hosts("*.example.net"), ProxyOnLoopback);
        handler.Proxy = new WebProxy(new UriBuilder(proxy.Url) { Host = "proxy.internal", Path = "" }.Uri);
        using var client = new HttpClient(handler);

        using var forwarded = await client.PostAsync(new UriBuilder(proxy.Url) { Host = "hook.example.net" }.Uri, new StringContent("{}"), Ct);

        Assert.Equal(HttpStatusCode.OK, forwarded.StatusCode);
        Assert.Single(proxy.Received);
    }
}
