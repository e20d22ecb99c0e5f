using System.Globalization;
using System.Text.RegularExpressions;

namespace SessionMesh.Server.Sandbox;

/// <summary>
/// The fault rates of a sandbox server: the share of API requests answered with an injected 5xx, 401
/// or 429 instead of being handled, the latency added before each one, and the chance that an event
/// stream is cut after each frame. Written as <c>5xx=0.1,401=0.02,429=0.05,latency=20ms-200ms,drop-stream=0.05</c>.
/// </summary>
internal sealed record FaultSettings
{
    /// <summary>No faults at all.</summary>
    public static readonly FaultSettings None = new();

    /// <summary>The spec keys, in the order <see cref="ToString"/> writes them.</summary>
    public static readonly IReadOnlyList<string> Kinds = ["5xx", "401", "429", "latency", "drop-stream"];

    /// <summary>Share (0..1) of requests answered 503 or 500 <c>sandbox_fault</c>.</summary>
    public double ServerError { get; init; }

    /// <summary>Share (0..1) of requests answered 401 <c>invalid_key</c>, as if the key were refused.</summary>
    public double Unauthorized { get; init; }

    /// <summary>Share (0..1) of requests answered 429 <c>rate_limited</c> with <c>Retry-After</c>.</summary>
    public double TooManyRequests { get; init; }

    /// <summary>Delay added before every API request is handled (or faulted).</summary>
    public LatencyRange Latency { get; init; } = LatencyRange.None;

    /// <summary>Chance (0..1), after each frame of an event stream, that the connection is dropped.</summary>
    public double DropStream { get; init; }

    /// <summary>Parses a <c>--faults</c> spec; null or blank means no faults. Throws <see cref="FaultSpecException"/> naming the bad part.</summary>
    public static FaultSettings Parse(string? spec)
    {
        var settings = None;
        if (string.IsNullOrWhiteSpace(spec))
        {
            return settings;
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var part in spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new FaultSpecException(part, $"'{part}' is not KIND=VALUE; kinds are {string.Join(", ", Kinds)} (e.g. 5xx=0.1,latency=20ms-200ms).");
            }
            var kind = part[..equals].Trim().ToLowerInvariant();
            var value = part[(equals + 1)..].Trim();
            if (kind == "drop_stream")
            {
                kind = "drop-stream";
            }
            if (!Kinds.Contains(kind))
            {
                throw new FaultSpecException(kind, $"'{part}': unknown fault '{part[..equals].Trim()}'; kinds are {string.Join(", ", Kinds)}.");
            }
            if (!seen.Add(kind))
            {
                throw new FaultSpecException(kind, $"'{part}': {kind} is given twice.");
            }
            settings = kind switch
            {
                "5xx" => settings with { ServerError = ParseRate(kind, value, part) },
                "401" => settings with { Unauthorized = ParseRate(kind, value, part) },
                "429" => settings with { TooManyRequests = ParseRate(kind, value, part) },
                "drop-stream" => settings with { DropStream = ParseRate(kind, value, part) },
                _ => settings with { Latency = LatencyRange.Parse(kind, value, part) },
            };
        }
        return settings;
    }

    /// <summary>A rate 0..1; <paramref name="part"/> is what the message quotes.</summary>
    public static double ParseRate(string kind, string value, string part) =>
        double.TryParse(value, NumberStyles.AllowLeadingWhite | NumberStyles.AllowTrailingWhite | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var rate)
            ? CheckRate(kind, rate, part)
            : throw new FaultSpecException(kind, $"'{part}': {kind} must be a rate from 0 to 1, e.g. {kind}=0.1.");

    /// <summary>Checks a rate is within 0..1.</summary>
    public static double CheckRate(string kind, double rate, string part) =>
        double.IsFinite(rate) && rate is >= 0 and <= 1
            ? rate
            : throw new FaultSpecException(kind, $"'{part}': {kind} must be a rate from 0 to 1, e.g. {kind}=0.1.");

    /// <summary>The spec form, e.g. <c>5xx=0.1,latency=20ms-200ms</c>; <c>none</c> when nothing is injected.</summary>
    public override string ToString()
    {
        var parts = new List<string>();
        void Rate(string kind, double rate)
        {
            if (rate > 0)
            {
                parts.Add(kind + "=" + rate.ToString(CultureInfo.InvariantCulture));
            }
        }
        Rate("5xx", ServerError);
        Rate("401", Unauthorized);
        Rate("429", TooManyRequests);
        if (Latency.Max > TimeSpan.Zero)
        {
            parts.Add("latency=" + Latency);
        }
        Rate("drop-stream", DropStream);
        return parts.Count == 0 ? "none" : string.Join(",", parts);
    }
}

/// <summary>A delay drawn uniformly between <see cref="Min"/> and <see cref="Max"/>; written <c>50ms</c> or <c>20ms-200ms</c>.</summary>
internal readonly partial record struct LatencyRange(TimeSpan Min, TimeSpan Max)
{
    /// <summary>The longest latency a sandbox accepts.</summary>
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(300);

    public static readonly LatencyRange None = new(TimeSpan.Zero, TimeSpan.Zero);

    /// <summary>Parses <c>50ms</c>, <c>1.5s</c>, <c>20ms-200ms</c>, or <c>0</c> / empty for none.</summary>
    public static LatencyRange Parse(string kind, string? value, string part)
    {
        value = value?.Trim();
        if (string.IsNullOrEmpty(value) || value == "0")
        {
            return None;
        }
        var dash = value.IndexOf('-', StringComparison.Ordinal);
        var min = Duration(dash < 0 ? value : value[..dash]);
        var max = dash < 0 ? min : Duration(value[(dash + 1)..]);
        if (min is null || max is null)
        {
            throw new FaultSpecException(kind, $"'{part}': {kind} must be a duration like 50ms or 1s, or a range like 20ms-200ms.");
        }
        if (min > max)
        {
            throw new FaultSpecException(kind, $"'{part}': the lower bound of {kind} is above its upper bound.");
        }
        if (max > Limit)
        {
            throw new FaultSpecException(kind, $"'{part}': {kind} can be at most {Limit.TotalSeconds:0}s.");
        }
        return new LatencyRange(min.Value, max.Value);
    }

    private static TimeSpan? Duration(string text)
    {
        var match = DurationPattern().Match(text.Trim());
        if (!match.Success || !double.TryParse(match.Groups["n"].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount))
        {
            return null;
        }
        var milliseconds = match.Groups["unit"].Value == "s" ? amount * 1000 : amount;
        return milliseconds > Limit.TotalMilliseconds ? Limit + TimeSpan.FromMilliseconds(1) : TimeSpan.FromMilliseconds(milliseconds);
    }

    [GeneratedRegex(@"^(?<n>[0-9]+(\.[0-9]+)?)(?<unit>ms|s)$", RegexOptions.CultureInvariant)]
    private static partial Regex DurationPattern();

    public override string ToString()
    {
        static string Format(TimeSpan t) => t.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture) + "ms";
        return Min == Max ? Format(Min) : Format(Min) + "-" + Format(Max);
    }
}

/// <summary>A fault spec that cannot be applied; <see cref="Field"/> names the fault kind (or the part) at fault.</summary>
internal sealed class FaultSpecException(string field, string message) : ArgumentException(message)
{
    public string Field { get; } = field;
}
