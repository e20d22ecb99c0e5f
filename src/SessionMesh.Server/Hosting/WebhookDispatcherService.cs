using Microsoft.Extensions.Hosting;
using SessionMesh.Mesh;

namespace SessionMesh.Server.Hosting;

/// <summary>Runs the <see cref="WebhookDispatcher"/> for the life of the server.</summary>
internal sealed class WebhookDispatcherService(WebhookDispatcher dispatcher) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => dispatcher.RunAsync(stoppingToken);
}
