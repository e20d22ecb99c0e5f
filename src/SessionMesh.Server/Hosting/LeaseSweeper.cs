using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SessionMesh.Mesh;
using SessionMesh.Server.Observability;

namespace SessionMesh.Server.Hosting;

/// <summary>Turns lapsed leases stale, then expired, on a timer driven by the injected <see cref="TimeProvider"/>.</summary>
internal sealed partial class LeaseSweeper(MeshService mesh, MeshMetrics metrics, ILogger<LeaseSweeper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(mesh.Options.SweepInterval, mesh.Time);
        do
        {
            try
            {
                var changed = await mesh.SweepAsync(stoppingToken) + await mesh.SweepCommandsAsync(stoppingToken);
                await mesh.CompactEventsAsync(stoppingToken);
                if (changed > 0)
                {
                    LogSwept(logger, changed);
                }
                await metrics.RefreshAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogSweepFailed(logger, ex);
            }
        }
        while (await WaitAsync(timer, stoppingToken));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Sweeper changed {Count} lapsed sessions and due commands")]
    private static partial void LogSwept(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "Lease sweep failed; retrying on the next tick")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);
}
