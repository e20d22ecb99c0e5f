using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using SessionMesh.Client;
using SessionMesh.Contracts;
using SessionMesh.Tests.Cli;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Security;

/// <summary><c>serve</c> over HTTPS with its own certificate, reached by the CLI and the SDK trusting that certificate.</summary>
public sealed class TlsServeTests
{
    private const string RootKey = "tls-test-root-key-0123456789";
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Serve_with_a_pem_certificate_and_key_answers_the_cli_and_the_sdk_that_trust_it_and_refuses_those_that_do_not()
    {
        using var temp = new TempDirectory();
        var (certPath, keyPath, _) = WriteSelfSigned(temp.Path);
        await using var serve = ServeProcess.Start(temp.Path,
            ["--listen", "https://127.0.0.1:0", "--data-dir", "data", "--tls-cert", certPath, "--tls-key", keyPath],
            new Dictionary<string, string> { ["SESSION_MESH_ROOT_KEY"] = RootKey });
        var address = await serve.AddressAsync();
        Assert.StartsWith("https://127.0.0.1:", address, StringComparison.Ordinal);

        using var cli = new CliHarness().WithServer(new Uri(address), RootKey);
        var self = (await cli.RunAsync("keys", "self", "--output", "json", "--ca-cert", certPath)).Expect(0);
        Assert.Contains("\"root\"", self.Out, StringComparison.Ordinal);
        (await cli.RunAsync("register", "--agent-id", "tls-agent", "--spec", "secure", "--ca-cert", certPath)).Expect(0);
        var untrusted = await new CliHarness().WithServer(new Uri(address), RootKey).RunAsync("keys", "self");
        Assert.NotEqual(0, untrusted.ExitCode);

        using var client = new SessionMeshClient(new SessionMeshClientOptions { Server = new Uri(address), SessionKey = RootKey, CaCertificateFile = certPath, MaxAttempts = 1 });
        var session = await client.JoinAsync(new JoinRequest { AgentId = "tls-agent" }, Ct);
        Assert.Equal("tls-agent", session.AgentId);
        using var stranger = new SessionMeshClient(new SessionMeshClientOptions { Server = new Uri(address), SessionKey = RootKey, MaxAttempts = 1 });
        await Assert.ThrowsAnyAsync<Exception>(() => stranger.GetSelfKeyAsync(Ct));
        Assert.Equal(0, await serve.StopAsync());
    }

    [Fact]
    public async Task Serve_with_a_password_protected_pfx_from_the_environment_answers_a_cli_trusting_it_by_environment()
    {
        using var temp = new TempDirectory();
        var (certPath, _, pfxPath) = WriteSelfSigned(temp.Path, pfxPassword: "pfx-pass");
        await using var serve = ServeProcess.Start(temp.Path, ["--listen", "https://127.0.0.1:0", "--data-dir", "data"], new Dictionary<string, string>
        {
            ["SESSION_MESH_ROOT_KEY"] = RootKey,
            ["SESSION_MESH_TLS_CERT"] = pfxPath,
            ["SESSION_MESH_TLS_PASSWORD"] = "pfx-pass",
        });
        var address = await serve.AddressAsync();

        using var cli = new CliHarness().WithServer(new Uri(address), RootKey).With("SESSION_MESH_CA_CERT", certPath);
        (await cli.RunAsync("keys", "self", "--output", "json")).Expect(0);
        Assert.Equal(0, await serve.StopAsync());
    }

    [Fact]
    public async Task An_https_address_without_a_certificate_and_a_certificate_without_an_https_address_are_refused_in_one_line()
    {
        using var temp = new TempDirectory();
        var (certPath, keyPath, _) = WriteSelfSigned(temp.Path);
        await using var noCert = ServeProcess.Start(temp.Path, ["--listen", "https://127.0.0.1:0", "--data-dir", "a"]);
        Assert.Equal(1, await noCert.WaitForExitAsync());
        Assert.Contains("no certificate is set", noCert.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", noCert.Error, StringComparison.Ordinal);

        await using var noHttps = ServeProcess.Start(temp.Path, ["--listen", "http://127.0.0.1:0", "--data-dir", "b", "--tls-cert", certPath, "--tls-key", keyPath]);
        Assert.Equal(1, await noHttps.WaitForExitAsync());
        Assert.Contains("no listen address is https", noHttps.Error, StringComparison.Ordinal);
    }

    /// <summary>A self-signed certificate for 127.0.0.1 and localhost: PEM certificate, PEM key, and a PKCS#12 file.</summary>
    private static (string Cert, string Key, string Pfx) WriteSelfSigned(string directory, string? pfxPassword = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=session-mesh test", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        var certPath = Path.Combine(directory, "mesh.crt");
        var keyPath = Path.Combine(directory, "mesh.key");
        var pfxPath = Path.Combine(directory, "mesh.pfx");
        File.WriteAllText(certPath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        File.WriteAllBytes(pfxPath, certificate.Export(X509ContentType.Pkcs12, pfxPassword));
        return (certPath, keyPath, pfxPath);
    }
}
