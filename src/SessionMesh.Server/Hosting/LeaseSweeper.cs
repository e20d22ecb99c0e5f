using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SessionMesh.Mesh;
using SessionMesh.Server.Observability;

namespace SessionMesh.Server.Hosting;

/// <summary>Runs the mesh's maintenance on a timer driven by the injected <see cref="TimeProvider"/>, and refreshes the gauges.</summary>
internal sealed partial class LeaseSweeper(MeshMaintenance maintenance, MeshMetrics metrics, TimeProvider time, ILogger<LeaseSweeper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(maintenance.Interval, time);
        do
        {
            try
            {
                var changed = await maintenance.RunOnceAsync(stoppingToken);
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
        while (await PeriodicTicks.NextAsync(timer, stoppingToken));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Sweeper changed {Count} lapsed sessions and due commands")]
    private static partial void LogSwept(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "Lease sweep failed; retrying on the next tick")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);
}
