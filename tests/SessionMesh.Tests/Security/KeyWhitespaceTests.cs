using SessionMesh.Client;
using SessionMesh.Tests.Cli;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Security;

/// <summary>A key saved with a line end (a Windows key file, <c>$(cat key)</c>) or padded with spaces still works.</summary>
public sealed class KeyWhitespaceTests
{
    [Theory]
    [InlineData("\r\n")]
    [InlineData("\n")]
    [InlineData("  ")]
    [InlineData(" \t\r\n")]
    public async Task The_cli_trims_the_key_and_the_call_succeeds(string padding)
    {
        await using var server = await MeshTestServer.StartAsync();
        using var cli = new CliHarness().WithServer(server.BaseAddress, " " + server.RootKey + padding);

        var run = (await cli.RunAsync("keys", "self", "--output", "json")).Expect(0);

        Assert.Contains("\"key_id\": \"root\"", run.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_cli_run_as_a_process_with_a_windows_line_end_on_the_key_succeeds()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var cli = new CliHarness().WithServer(server.BaseAddress, server.RootKey + "\r\n");

        var run = (await cli.RunProcessAsync("keys", "self", "--output", "json")).Expect(0);

        Assert.Contains("\"root\"", run.Out, StringComparison.Ordinal);
        Assert.Equal("", run.Error.Trim());
    }

    [Fact]
    public async Task A_key_of_blanks_only_is_no_key_and_says_so()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var cli = new CliHarness().WithServer(server.BaseAddress, " \r\n");

        var run = (await cli.RunAsync("keys", "self")).Expect(4);

        Assert.Contains("SESSION_API_KEY is not set", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_sdk_trims_the_key_it_is_given_and_the_one_set_later()
    {
        await using var server = await MeshTestServer.StartAsync();
        using var client = new SessionMeshClient(new SessionMeshClientOptions { Server = server.BaseAddress, SessionKey = server.RootKey + "\r\n" });

        Assert.Equal("root", (await client.GetSelfKeyAsync(TestContext.Current.CancellationToken)).KeyId);
        client.SessionKey = "\t" + server.RootKey + " \n";
        Assert.Equal(server.RootKey, client.SessionKey);
        Assert.Equal("root", (await client.GetSelfKeyAsync(TestContext.Current.CancellationToken)).KeyId);
    }
}
