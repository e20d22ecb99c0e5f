namespace SessionMesh.Tests.Webhooks;

// The C# verification snippet of docs/webhooks.md, byte for byte between the markers (WebhookDocsTests checks that the
// doc shows exactly this), so the snippet users copy is the one the tests verify real deliveries with.
// --- snippet: begin ---
using System.Security.Cryptography;
using System.Text;

public static class SessionMeshWebhook
{
    /// <summary>True when the delivery is signed with <paramref name="secret"/> and its timestamp is within 5 minutes of now.</summary>
    public static bool Verify(string secret, byte[] body, string? timestampHeader, string? signatureHeader)
    {
        if (!long.TryParse(timestampHeader, out var timestamp) || signatureHeader is null
            || Math.Abs(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - timestamp) > 300)
        {
            return false;
        }
        var signed = Encoding.UTF8.GetBytes(timestampHeader + ".").Concat(body).ToArray();
        var expected = "v1=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed));
        return signatureHeader.Split(',').Any(candidate =>
            CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(candidate.Trim())));
    }
}
// --- snippet: end ---
