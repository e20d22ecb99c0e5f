using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace SessionMesh.Security;

/// <summary>
/// Session key secrets: <c>sm_&lt;key_id&gt;.&lt;256 random bits, base64url&gt;</c>. Only the SHA-256 of the
/// whole token is stored; a slow hash buys nothing against 256 bits of entropy.
/// </summary>
public static class KeySecrets
{
    private const string Prefix = "sm_";

    public static string NewToken(string keyId) =>
        Prefix + keyId + "." + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    public static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    /// <summary>The key id a token names, or null for a token not in this format (such as a root key set by environment).</summary>
    public static string? KeyIdOf(string token)
    {
        if (!token.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return null;
        }
        var dot = token.IndexOf('.', Prefix.Length);
        return dot > Prefix.Length ? token[Prefix.Length..dot] : null;
    }

    /// <summary>Compares a presented token with a stored hash in constant time.</summary>
    public static bool Matches(string token, byte[] storedHash) =>
        CryptographicOperations.FixedTimeEquals(Hash(token), storedHash);

    /// <summary>Masks a token for logs: the key id stays, the secret does not.</summary>
    public static string Mask(string token) => KeyIdOf(token) is { } id ? $"{Prefix}{id}.***" : "***";
}
