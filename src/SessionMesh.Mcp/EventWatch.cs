using SessionMesh.Mesh;

namespace SessionMesh.Mcp;

/// <summary><c>watch_events</c>: a page of events after a revision, waiting a bounded time for the first when there is none.</summary>
internal static class EventWatch
{
    public const int MaxWaitSeconds = 60;

    public static async Task<EventBatch> ReadAsync(IMeshOperations mesh, long since, int limit, int waitSeconds, CancellationToken cancellationToken)
    {
        if (limit is < 1 or > 1000)
        {
            throw MeshException.Invalid("limit", "'limit' must be 1..1000.");
        }
        if (waitSeconds is < 0 or > MaxWaitSeconds)
        {
            throw MeshException.Invalid("wait_seconds", $"'wait_seconds' must be 0..{MaxWaitSeconds}.");
        }
        var events = await mesh.ListEventsAsync(since, limit, cancellationToken);
        if (events.Count == 0 && waitSeconds > 0 && await FirstAsync(mesh, since, waitSeconds, cancellationToken) is { } first)
        {
            // Whatever else committed with the first event comes in the same answer.
            events = limit == 1 ? [first] : [first, .. await mesh.ListEventsAsync(first.Revision, limit - 1, cancellationToken)];
        }
        return new EventBatch(events, events.Count > 0 ? events[^1].Revision : since);
    }

    private static async Task<Contracts.EventView?> FirstAsync(IMeshOperations mesh, long since, int waitSeconds, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(waitSeconds));
        try
        {
            await foreach (var e in mesh.WatchEventsAsync(since, deadline.Token))
            {
                return e;
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            // Nothing happened within the wait: an empty batch.
        }
        return null;
    }
}
