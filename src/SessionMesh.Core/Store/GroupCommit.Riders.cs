namespace SessionMesh.Store;

/// <summary>Riders: writes nobody waits on, which join another writer's batch rather than pay a commit of their own.</summary>
public sealed partial class GroupCommit
{
    private readonly Lock _ridersGate = new();

    // Guarded by _ridersGate: the riders waiting for the next batch, and what wakes them when it begins.
    private TaskCompletionSource? _nextBatch;
    private int _riders;

    /// <summary>
    /// Like <see cref="BeginAsync(CancellationToken)"/>, for a write nobody waits on (marking commands handed out, say).
    /// When no batch is open and no writer is queued, it first waits up to <paramref name="patience"/> for another writer
    /// to begin a batch, and joins it: the writer that begins it counts the riders as queued, so it hands the lock on
    /// to them rather than commit without them, and the batch's one fsync covers them all. Under load such a write
    /// adds no commit of its own; on a quiet store it commits alone after <paramref name="patience"/>.
    /// </summary>
    /// <param name="patience">How long to wait for another writer's batch.</param>
    /// <param name="cancellationToken">Gives up waiting (for a batch, then for the lock).</param>
    public async Task<BatchedWrite> BeginRidingAsync(TimeSpan patience, CancellationToken cancellationToken)
    {
        TaskCompletionSource? nextBatch = null;
        lock (_ridersGate)
        {
            if (Volatile.Read(ref _batch) is null && Volatile.Read(ref _queuedWriters) == 0)
            {
                nextBatch = _nextBatch ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _riders++;
            }
        }
        if (nextBatch is null)
        {
            // A batch is open or about to be: queue for it like any writer.
            return await BeginAsync(counted: false, cancellationToken);
        }
        try
        {
            await nextBatch.Task.WaitAsync(patience, cancellationToken);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            // Waited long enough (or cancelled, which the lock's wait below reports).
        }
        bool counted;
        lock (_ridersGate)
        {
            counted = nextBatch.Task.IsCompleted;
            if (!counted)
            {
                _riders--;
            }
        }
        return await BeginAsync(counted, cancellationToken);
    }

    /// <summary>
    /// Called by the writer that began a batch, holding the lock: the riders waiting for it are counted as queued (so
    /// the lock comes to them before the batch commits) and woken.
    /// </summary>
    private void WakeRiders()
    {
        lock (_ridersGate)
        {
            if (_nextBatch is not { } next)
            {
                return;
            }
            Interlocked.Add(ref _queuedWriters, _riders);
            _riders = 0;
            _nextBatch = null;
            next.TrySetResult();
        }
    }
}
