using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace SessionMesh.Client.Http;

/// <summary>Trusting one certificate authority from a PEM file (<see cref="SessionMeshClientOptions.CaCertificateFile"/>) for HTTPS.</summary>
internal static class CaTrust
{
    /// <summary>The TLS options of the default handler: the system's roots without a file, else only the file's certificates.</summary>
    public static SslClientAuthenticationOptions SslOptions(string? caCertificateFile)
    {
        if (string.IsNullOrWhiteSpace(caCertificateFile))
        {
            return new SslClientAuthenticationOptions();
        }
        var roots = new X509Certificate2Collection();
        try
        {
            roots.ImportFromPemFile(caCertificateFile);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            throw new ArgumentException($"Cannot read the CA certificate file '{caCertificateFile}': {ex.Message}", nameof(caCertificateFile), ex);
        }
        if (roots.Count == 0)
        {
            throw new ArgumentException($"The CA certificate file '{caCertificateFile}' holds no PEM certificate (-----BEGIN CERTIFICATE-----).", nameof(caCertificateFile));
        }
        return new SslClientAuthenticationOptions
        {
            RemoteCertificateValidationCallback = (_, certificate, _, errors) => Trusted(roots, certificate, errors),
        };
    }

    private static bool Trusted(X509Certificate2Collection roots, X509Certificate? certificate, SslPolicyErrors errors)
    {
        // A name mismatch or a missing certificate is refused whatever the chain.
        if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
        {
            return false;
        }
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
    }
}
