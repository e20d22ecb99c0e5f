using System.Text.RegularExpressions;

namespace SessionMesh.Mesh;

public static partial class Validate
{
    /// <summary>The longest lock name.</summary>
    public const int MaxLockNameLength = 256;

    // Segments separated by single slashes, each starting with a letter or digit: no empty, "." or ".." segment a URL
    // path would fold away, no leading or trailing slash.
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._:@+-]*(/[A-Za-z0-9][A-Za-z0-9._:@+-]*)*$")]
    private static partial Regex LockNamePattern();

    /// <summary>A lock name: 1-256 characters of letters, digits and . _ : @ + -, in segments separated by <c>/</c>.</summary>
    public static string LockName(string? value, string field = "name")
    {
        Required(value, field);
        NotASecret(value, field);
        return value!.Length <= MaxLockNameLength && LockNamePattern().IsMatch(value)
            ? value
            : throw MeshException.Invalid(field, $"'{field}' must be 1-{MaxLockNameLength} characters of letters, digits and . _ : @ + -, in segments separated by '/' that each start with a letter or digit (e.g. 'repo/main').");
    }

    /// <summary>A whole number of seconds in 0..<paramref name="max"/>, or the default 0 when absent.</summary>
    public static int Seconds(int? value, string field, int max)
    {
        var seconds = value ?? 0;
        return seconds >= 0 && seconds <= max
            ? seconds
            : throw MeshException.Invalid(field, $"'{field}' must be between 0 and {max} seconds.");
    }
}
