using Microsoft.Extensions.Options;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Server;

/// <summary>A server setting that could not work stops the start with a message naming it, instead of failing later.</summary>
public sealed class ServerOptionsTests
{
    [Theory]
    [InlineData("Server:MaxStreamsPerKey", "0", "Server:MaxStreamsPerKey must be at least 1.")]
    [InlineData("Server:MaxCommandStreamsPerAgent", "-3", "Server:MaxCommandStreamsPerAgent must be at least 1.")]
    [InlineData("Server:StreamKeepAlive", "00:00:00", "Server:StreamKeepAlive must be positive.")]
    [InlineData("Server:RateLimitBurst", "0", "Server:RateLimitBurst must be at least 1.")]
    [InlineData("Server:MinRequestBodyDataRate", "-1", "Server:MinRequestBodyDataRate cannot be negative")]
    [InlineData("Server:PublicUrl", "mesh.example.com", "Server:PublicUrl must be an absolute http or https URL")]
    [InlineData("Server:PublicUrl", "ftp://mesh.example.com", "Server:PublicUrl must be an absolute http or https URL")]
    [InlineData("Server:PublicUrl", "https://mesh.example.com/?x=1", "Server:PublicUrl must be a scheme, host, port and path only")]
    public async Task A_setting_that_could_not_work_stops_the_start_naming_it(string setting, string value, string message)
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => MeshTestServer.StartAsync(settings: new Dictionary<string, string> { [setting] = value }));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }
}
