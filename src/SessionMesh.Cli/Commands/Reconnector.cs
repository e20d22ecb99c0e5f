using System.Globalization;
using SessionMesh.Client;

namespace SessionMesh.Cli.Commands;

/// <summary>
/// Keeps <c>watch</c> and <c>list --watch</c> alive across a server restart or a network outage: every failure that a
/// later attempt could get past is reported on stderr and retried with a growing pause, for as long as the user lets
/// the command run (Ctrl+C stops it).
/// </summary>
internal sealed class Reconnector(CliContext context)
{
    private static readonly TimeSpan s_maxDelay = TimeSpan.FromSeconds(5);
    private int _failures;

    /// <summary>Failures a reconnect can cure: the server unreachable, restarting (5xx), or the stream cut.</summary>
    public static bool IsTransient(Exception exception, CancellationToken cancellationToken) =>
        !cancellationToken.IsCancellationRequested && exception switch
        {
            SessionMeshConnectionException => true,
            SessionMeshException mesh => mesh.Status >= 500 || mesh.Status == 429,
            IOException or HttpRequestException => true,
            _ => false,
        };

    /// <summary>The stream delivered again: the next failure starts the backoff from the beginning.</summary>
    public void Connected() => _failures = 0;

    /// <summary>Says on stderr what was lost and when the next attempt is, then waits for it.</summary>
    public async Task WaitAsync(Exception exception, long? resumeAfter, CancellationToken cancellationToken)
    {
        _failures++;
        var delay = TimeSpan.FromMilliseconds(Math.Min(s_maxDelay.TotalMilliseconds, 250 * Math.Pow(2, Math.Min(_failures - 1, 8))));
        var cause = exception switch
        {
            SessionMeshConnectionException => "cannot reach it",
            SessionMeshException mesh => $"HTTP {mesh.Status}",
            _ => "the stream was cut",
        };
        var resume = resumeAfter is { } revision ? $", resuming after revision {revision.ToString(CultureInfo.InvariantCulture)}" : "";
        await context.Error.WriteLineAsync(context.ErrorStyle.Yellow(
            $"session-mesh: lost the server at {context.Server} ({cause}); reconnecting in {delay.TotalSeconds.ToString("0.##", CultureInfo.InvariantCulture)}s (attempt {_failures.ToString(CultureInfo.InvariantCulture)}){resume}. Ctrl+C to stop."));
        await context.Error.FlushAsync(cancellationToken);
        await Task.Delay(delay, context.Console.Time, cancellationToken);
    }
}
