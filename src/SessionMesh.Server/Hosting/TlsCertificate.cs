using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace SessionMesh.Server.Hosting;

/// <summary>
/// The server's HTTPS certificate: a PEM certificate with its key (in the same file or in <c>Server:TlsKey</c>), or a
/// PKCS#12 file (<c>.pfx</c>, <c>.p12</c>); <c>Server:TlsPassword</c> opens an encrypted key or a PKCS#12 file. Every
/// problem is one <see cref="ArgumentException"/> naming the setting, which <c>serve</c> prints in one line.
/// </summary>
internal static class TlsCertificate
{
    public static X509Certificate2 Load(string certificatePath, string? keyPath, string? password)
    {
        RequireFile(certificatePath, "Server:TlsCertificate (--tls-cert)");
        if (keyPath is not null)
        {
            RequireFile(keyPath, "Server:TlsKey (--tls-key)");
        }
        X509Certificate2 certificate;
        try
        {
            var extension = Path.GetExtension(certificatePath).ToLowerInvariant();
            certificate = extension is ".pfx" or ".p12"
                ? X509CertificateLoader.LoadPkcs12FromFile(certificatePath, password)
                : string.IsNullOrEmpty(password)
                    ? X509Certificate2.CreateFromPemFile(certificatePath, keyPath)
                    : X509Certificate2.CreateFromEncryptedPemFile(certificatePath, password, keyPath);
        }
        catch (CryptographicException ex)
        {
            throw new ArgumentException($"Server:TlsCertificate (--tls-cert): cannot load '{certificatePath}'{(keyPath is null ? "" : $" with key '{keyPath}'")}: {ex.Message} (PEM certificate and key, or a .pfx/.p12 file; Server:TlsPassword for an encrypted one).");
        }
        if (!certificate.HasPrivateKey)
        {
            certificate.Dispose();
            throw new ArgumentException($"Server:TlsCertificate (--tls-cert): '{certificatePath}' has no private key; give the key file with --tls-key.");
        }
        // SslStream on Windows cannot use the ephemeral key of a PEM import; a PKCS#12 round trip gives it a stored one.
        if (OperatingSystem.IsWindows() && Path.GetExtension(certificatePath).ToLowerInvariant() is not (".pfx" or ".p12"))
        {
            using var pem = certificate;
            certificate = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        }
        return certificate;
    }

    private static void RequireFile(string path, string setting)
    {
        if (!File.Exists(path))
        {
            throw new ArgumentException($"{setting}: no file '{path}'.");
        }
    }
}
