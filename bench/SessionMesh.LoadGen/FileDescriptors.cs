using System.Globalization;

namespace SessionMesh.LoadGen;

/// <summary>
/// The open-file limit, which every connection counts against: once in this process and once in the server (a child,
/// so it inherits this process's limit). A process cannot raise its own hard limit, and .NET already raises the soft
/// limit to the hard one at start-up, so a scenario that needs more is skipped with a message saying how to raise it.
/// </summary>
internal static class FileDescriptors
{
    /// <summary>Descriptors a process needs besides its connections: the runtime, the store's files, the listener, slack.</summary>
    private const int Reserve = 1024;

    public const string HowToRaise =
        "raise it before the run: `ulimit -n 65536` in the shell that starts the bench (up to the hard limit, `ulimit -Hn`); "
        + "above that, `nofile` in /etc/security/limits.conf (log in again), `LimitNOFILE=` for a systemd unit, "
        + "or `docker run --ulimit nofile=65536:65536`";

    /// <summary>This process's soft limit (<c>Max open files</c> in /proc/self/limits); null where unknown.</summary>
    public static long? Limit()
    {
        try
        {
            var line = File.ReadLines("/proc/self/limits").FirstOrDefault(l => l.StartsWith("Max open files", StringComparison.Ordinal));
            var fields = line?["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return fields is { Length: > 0 } && long.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var soft) ? soft : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Why <paramref name="connections"/> concurrent connections cannot be held, or null when the limit allows them.</summary>
    public static string? Shortfall(int connections)
    {
        var limit = Limit();
        var needed = (long)connections + Reserve;
        return limit is { } soft && soft < needed
            ? string.Create(CultureInfo.InvariantCulture, $"not run: {connections} connections need about {needed} open files in the bench and in the server, and the limit is {soft}; {HowToRaise}.")
            : null;
    }
}
