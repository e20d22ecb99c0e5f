using Microsoft.Extensions.Options;

namespace SessionMesh.Server.Hosting;

/// <summary>Refuses server settings that could not work (a cap of 0 refuses every stream), naming the setting.</summary>
internal sealed class MeshServerOptionsValidator : IValidateOptions<MeshServerOptions>
{
    public ValidateOptionsResult Validate(string? name, MeshServerOptions options)
    {
        var failures = new List<string>();
        AtLeastOne(failures, "RateLimitPerSecond", options.RateLimitPerSecond);
        AtLeastOne(failures, "RateLimitBurst", options.RateLimitBurst);
        AtLeastOne(failures, "MaxRequestBodySize", options.MaxRequestBodySize);
        AtLeastOne(failures, "MaxStreamsPerKey", options.MaxStreamsPerKey);
        AtLeastOne(failures, "MaxCommandStreamsPerAgent", options.MaxCommandStreamsPerAgent);
        Positive(failures, "StreamKeepAlive", options.StreamKeepAlive);
        Positive(failures, "RequestHeadersTimeout", options.RequestHeadersTimeout);
        Positive(failures, "KeepAliveTimeout", options.KeepAliveTimeout);
        if (options.MinRequestBodyDataRate < 0)
        {
            failures.Add("Server:MinRequestBodyDataRate cannot be negative (0 turns the check off).");
        }
        if (options.MinRequestBodyDataRate > 0 && options.MinRequestBodyDataRateGracePeriod <= TimeSpan.FromSeconds(1))
        {
            // Kestrel's own rule: its rate check needs more than a second to measure.
            failures.Add("Server:MinRequestBodyDataRateGracePeriod must be more than 1 second.");
        }
        if (options.ShutdownTimeout < TimeSpan.Zero)
        {
            failures.Add("Server:ShutdownTimeout cannot be negative.");
        }
        if (options.PublicUrl is { } publicUrl && PublicUrlError(publicUrl) is { } error)
        {
            failures.Add(error);
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static string? PublicUrlError(string publicUrl) =>
        !Uri.TryCreate(publicUrl, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || string.IsNullOrEmpty(uri.Host)
            ? $"Server:PublicUrl must be an absolute http or https URL (e.g. https://mesh.example.com), not '{publicUrl}'."
            : uri.UserInfo.Length > 0 || uri.Query.Length > 0 || uri.Fragment.Length > 0
                ? $"Server:PublicUrl must be a scheme, host, port and path only (no credentials, query or fragment), not '{publicUrl}'."
                : null;

    private static void AtLeastOne(List<string> failures, string setting, long value)
    {
        if (value < 1)
        {
            failures.Add($"Server:{setting} must be at least 1.");
        }
    }

    private static void Positive(List<string> failures, string setting, TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            failures.Add($"Server:{setting} must be positive.");
        }
    }
}
