using System.Security.Cryptography;
using System.Text;

namespace SessionMesh.Mesh;

/// <summary>
/// The signature of a delivery: <c>v1=</c> and the lowercase hex HMAC-SHA256, keyed with the webhook's secret (its UTF-8
/// bytes, <c>whsec_</c> prefix included), of <c>"{timestamp}.{body}"</c>, where the timestamp is the
/// <c>X-SessionMesh-Timestamp</c> header (Unix seconds) and the body the exact bytes POSTed. <see cref="Verify"/> is
/// what a receiver runs (docs/webhooks.md shows it); the tests' receiver uses it.
/// </summary>
public static class WebhookSignature
{
    /// <summary>The header that carries the signature.</summary>
    public const string Header = "X-SessionMesh-Signature";

    /// <summary>The header that carries the timestamp signed with the body.</summary>
    public const string TimestampHeader = "X-SessionMesh-Timestamp";

    /// <summary>The header that carries the delivery id, the same on every retry of one event: <c>{webhook_id}:{revision}</c>.</summary>
    public const string DeliveryHeader = "X-SessionMesh-Delivery";

    /// <summary>The header that carries the event type.</summary>
    public const string EventHeader = "X-SessionMesh-Event";

    /// <summary>The header that carries the webhook id.</summary>
    public const string WebhookHeader = "X-SessionMesh-Webhook";

    /// <summary>The signature header's value for a body sent at <paramref name="timestamp"/>.</summary>
    public static string Sign(string secret, long timestamp, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.UTF8.GetBytes(timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture) + ".");
        var signed = new byte[prefix.Length + body.Length];
        prefix.CopyTo(signed, 0);
        body.CopyTo(signed.AsSpan(prefix.Length));
        return "v1=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed));
    }

    /// <summary>
    /// What a receiver checks: the signature header holds a <c>v1=</c> signature of this timestamp and body (compared in
    /// constant time), and the timestamp is within <paramref name="tolerance"/> of <paramref name="now"/> (replays of old
    /// deliveries refused).
    /// </summary>
    public static bool Verify(string secret, string? signatureHeader, string? timestampHeader, ReadOnlySpan<byte> body, DateTimeOffset now, TimeSpan tolerance)
    {
        if (signatureHeader is null || !long.TryParse(timestampHeader, System.Globalization.CultureInfo.InvariantCulture, out var timestamp))
        {
            return false;
        }
        if (Math.Abs(now.ToUnixTimeSeconds() - timestamp) > tolerance.TotalSeconds)
        {
            return false;
        }
        var expected = Encoding.ASCII.GetBytes(Sign(secret, timestamp, body));
        foreach (var candidate in signatureHeader.Split(',', StringSplitOptions.TrimEntries))
        {
            if (CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(candidate)))
            {
                return true;
            }
        }
        return false;
    }
}
