using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace SessionMesh.Security;

/// <summary>
/// Session key secrets: <c>sm_&lt;key_id&gt;.&lt;256 random bits, base64url&gt;</c>. Only the SHA-256 of the
/// whole token is stored; a slow hash buys nothing against 256 bits of entropy.
/// </summary>
public static partial class KeySecrets
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

    /// <summary>Compares a presented token with a stored hash in constant time; allocates nothing for a token of usual length.</summary>
    public static bool Matches(string token, byte[] storedHash)
    {
        var length = Encoding.UTF8.GetMaxByteCount(token.Length);
        var rented = length > 512 ? ArrayPool<byte>.Shared.Rent(length) : null;
        try
        {
            Span<byte> text = rented is null ? stackalloc byte[512] : rented;
            var written = Encoding.UTF8.GetBytes(token, text);
            Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(text[..written], hash);
            // The secret does not stay behind on the stack.
            CryptographicOperations.ZeroMemory(text[..written]);
            return CryptographicOperations.FixedTimeEquals(hash, storedHash);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented, clearArray: true);
            }
        }
    }

    /// <summary>Masks a token for logs: the key id stays, the secret does not.</summary>
    public static string Mask(string token) => KeyIdOf(token) is { } id ? $"{Prefix}{id}.***" : "***";

    /// <summary>
    /// True when <paramref name="text"/> holds something shaped like a secret (<c>sm_ID.</c> and 20 or more base64url
    /// characters): a key pasted where an id or a name goes.
    /// </summary>
    public static bool ContainsSecret(string? text) => text is not null && SecretShape().IsMatch(text);

    /// <summary>
    /// <paramref name="text"/> with every secret-shaped part masked (<see cref="Mask"/>): what error bodies, audit
    /// entries and logs carry of anything a client sent, so a key pasted as an id is never echoed or stored.
    /// </summary>
    public static string Redact(string text) =>
        text.Contains(Prefix, StringComparison.Ordinal) ? SecretShape().Replace(text, m => Mask(m.Value)) : text;

    // The id part is what KeyIdOf reads (up to the first dot); the secret part is base64url, 43 characters when minted.
    [GeneratedRegex(@"sm_[A-Za-z0-9_-]{1,64}\.[A-Za-z0-9_-]{20,}", RegexOptions.CultureInvariant)]
    private static partial Regex SecretShape();
}
