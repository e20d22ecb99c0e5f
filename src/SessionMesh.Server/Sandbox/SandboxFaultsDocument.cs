using System.Text.Json.Serialization;

namespace SessionMesh.Server.Sandbox;

/// <summary>
/// The body of <c>GET</c> and <c>PUT /api/session-mesh/sandbox/faults</c>:
/// <c>{"5xx": 0.1, "401": 0, "429": 0, "latency": "20ms-200ms", "drop_stream": 0.05}</c>.
/// A PUT replaces every rate: a field left out is off.
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
internal sealed record SandboxFaultsDocument
{
    /// <summary>Share (0..1) of API requests answered 503 or 500 <c>sandbox_fault</c>.</summary>
    [JsonPropertyName("5xx")]
    public double? ServerError { get; init; }

    /// <summary>Share (0..1) of API requests answered 401 <c>invalid_key</c>.</summary>
    [JsonPropertyName("401")]
    public double? Unauthorized { get; init; }

    /// <summary>Share (0..1) of API requests answered 429 <c>rate_limited</c>.</summary>
    [JsonPropertyName("429")]
    public double? TooManyRequests { get; init; }

    /// <summary>Latency added to every API request: <c>50ms</c>, <c>20ms-200ms</c>, or <c>0ms</c> for none.</summary>
    [JsonPropertyName("latency")]
    public string? Latency { get; init; }

    /// <summary>Chance (0..1), after each frame of an event stream, that the connection is dropped.</summary>
    [JsonPropertyName("drop_stream")]
    public double? DropStream { get; init; }

    public static SandboxFaultsDocument From(FaultSettings settings) => new()
    {
        ServerError = settings.ServerError,
        Unauthorized = settings.Unauthorized,
        TooManyRequests = settings.TooManyRequests,
        Latency = settings.Latency.ToString(),
        DropStream = settings.DropStream,
    };

    /// <summary>The settings this document asks for; throws <see cref="FaultSpecException"/> naming the bad field.</summary>
    public FaultSettings ToSettings() => new()
    {
        ServerError = Rate("5xx", ServerError),
        Unauthorized = Rate("401", Unauthorized),
        TooManyRequests = Rate("429", TooManyRequests),
        Latency = LatencyRange.Parse("latency", Latency, $"latency: \"{Latency}\""),
        DropStream = Rate("drop_stream", DropStream),
    };

    private static double Rate(string field, double? rate) =>
        rate is { } value ? FaultSettings.CheckRate(field, value, $"{field}: {value.ToString(System.Globalization.CultureInfo.InvariantCulture)}") : 0;
}

/// <summary>The sandbox's JSON, source-generated; added to the server's JSON options in sandbox mode only.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(SandboxFaultsDocument))]
internal sealed partial class SandboxJsonContext : JsonSerializerContext;
