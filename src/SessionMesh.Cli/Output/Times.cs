using System.Globalization;

namespace SessionMesh.Cli.Output;

/// <summary>Short relative times for tables: "4s ago", "in 26s", "3m ago".</summary>
internal static class Times
{
    public static string Ago(DateTimeOffset at, DateTimeOffset now) => at <= now ? $"{Span(now - at)} ago" : $"in {Span(at - now)}";

    public static string Until(DateTimeOffset at, DateTimeOffset now) => at >= now ? $"in {Span(at - now)}" : $"{Span(now - at)} ago";

    public static string Span(TimeSpan span)
    {
        if (span < TimeSpan.Zero)
        {
            span = -span;
        }
        return span.TotalSeconds < 60 ? $"{(int)span.TotalSeconds}s"
            : span.TotalMinutes < 60 ? $"{(int)span.TotalMinutes}m"
            : span.TotalHours < 48 ? $"{(int)span.TotalHours}h"
            : $"{(int)span.TotalDays}d";
    }

    public static string Stamp(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static string Load(double? load) => load is { } l ? l.ToString("0.00", CultureInfo.InvariantCulture) : "-";
}
