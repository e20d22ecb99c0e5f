namespace SessionMesh.Store;

/// <summary>
/// What the store may delete (<see cref="IMeshStore.ApplyRetentionAsync"/>): events and completed commands (acked,
/// rejected, failed, expired) past an age or beyond a size, oldest first. Pending commands (queued, delivered) are
/// never deleted, whatever their age or size.
/// </summary>
/// <param name="Now">The time ages are measured from.</param>
/// <param name="MaxEvents">How many of the latest events are kept at most.</param>
/// <param name="MaxEventAge">Events older than this go.</param>
/// <param name="MaxEventBytes">
/// The most bytes of event data kept, counted with the command payloads the events carry, newest first; older events go.
/// </param>
/// <param name="MaxCommandAge">Commands completed longer ago than this go.</param>
/// <param name="MaxCommandBytes">The most bytes of completed commands kept, most recently completed first; older ones go.</param>
public sealed record RetentionPolicy(
    DateTimeOffset Now,
    long MaxEvents,
    TimeSpan MaxEventAge,
    long MaxEventBytes,
    TimeSpan MaxCommandAge,
    long MaxCommandBytes);
