using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SessionMesh.Mesh;

namespace SessionMesh.Server.Hosting;

/// <summary>
/// Writes the leases renewed in memory to the store every <c>Mesh:LeaseCheckpointInterval</c>, on a timer driven by
/// the injected <see cref="TimeProvider"/>, and once more when the server stops, so a clean restart loses nothing.
/// </summary>
internal sealed partial class LeaseCheckpointer(MeshMaintenance maintenance, TimeProvider time, ILogger<LeaseCheckpointer> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(maintenance.CheckpointInterval, time);
        while (await PeriodicTicks.NextAsync(timer, stoppingToken))
        {
            try
            {
                await maintenance.CheckpointLeasesAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogCheckpointFailed(logger, ex);
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        // The last checkpoint: renewals acknowledged before the stop reach the store. A crash skips this; the lease
        // extension at the next start covers what it loses (see LeaseTable).
        try
        {
            await maintenance.CheckpointLeasesAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogCheckpointFailed(logger, ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Lease checkpoint failed; the renewed leases stay in memory and are written on the next one")]
    private static partial void LogCheckpointFailed(ILogger logger, Exception exception);
}
