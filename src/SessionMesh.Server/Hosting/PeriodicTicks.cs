namespace SessionMesh.Server.Hosting;

/// <summary>The tick loop of the server's background services.</summary>
internal static class PeriodicTicks
{
    /// <summary>Waits for the timer's next tick: false once the service is stopping (or the timer was disposed).</summary>
    public static async Task<bool> NextAsync(PeriodicTimer timer, CancellationToken stoppingToken)
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
}
