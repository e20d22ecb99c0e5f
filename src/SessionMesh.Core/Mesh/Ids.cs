using System.Security.Cryptography;

namespace SessionMesh.Mesh;

/// <summary>Server-generated ids: a prefix, then hex that sorts by creation time where order matters.</summary>
public static class Ids
{
    /// <summary>A session id that sorts by start time: <c>ses_</c>, 12 hex digits of Unix milliseconds, 16 random.</summary>
    public static string NewSessionId(DateTimeOffset now) => TimeOrdered("ses_", now);

    /// <summary>A command id that sorts by creation time.</summary>
    public static string NewCommandId(DateTimeOffset now) => TimeOrdered("cmd_", now);

    /// <summary>A key id: <c>key_</c> and 16 random hex digits.</summary>
    public static string NewKeyId() => "key_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    private static string TimeOrdered(string prefix, DateTimeOffset now) =>
        prefix + now.ToUnixTimeMilliseconds().ToString("x12", System.Globalization.CultureInfo.InvariantCulture)
        + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
}
