using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using SessionMesh.Mesh;

namespace SessionMesh.Server.Hosting;

/// <summary>The server's part of webhooks: their settings from configuration, and the dispatcher as a hosted service.</summary>
internal static class WebhookRegistration
{
    /// <summary>The environment variable of the allow-list (<see cref="WebhookOptions.AllowedHosts"/>), read when configuration sets none.</summary>
    public const string AllowedHostsVariable = "SESSION_MESH_WEBHOOK_ALLOWED_HOSTS";

    public static void AddWebhookDelivery(this IServiceCollection services, bool sandbox)
    {
        services.AddOptions<WebhookOptions>().BindConfiguration(WebhookOptions.Section)
            .Configure<IConfiguration>((options, configuration) =>
            {
                if (string.IsNullOrWhiteSpace(options.AllowedHosts))
                {
                    // The host maps SESSION_MESH_X to the configuration key X.
                    options.AllowedHosts = configuration[AllowedHostsVariable["SESSION_MESH_".Length..]] ?? "";
                }
                // A sandbox is for a user's own integration tests, whose receivers listen on loopback.
                options.AllowLoopback |= sandbox;
            })
            .Validate(o => o.Timeout > TimeSpan.Zero && o.RetryFor > TimeSpan.Zero && o.MaxAttempts >= 1 && o.InitialBackoff >= TimeSpan.Zero
                && o.MaxBackoff >= o.InitialBackoff && o.PollInterval > TimeSpan.Zero && o.DeliveriesKept >= 1,
                "Mesh:Webhooks: Timeout, RetryFor and PollInterval must be positive, MaxAttempts and DeliveriesKept at least 1, MaxBackoff at least InitialBackoff.")
            .ValidateOnStart();
        services.AddHostedService<WebhookDispatcherService>();
    }
}
