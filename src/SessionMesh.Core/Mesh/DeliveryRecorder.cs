using SessionMesh.Model;

namespace SessionMesh.Mesh;

/// <summary>
/// Records hand-outs in the store lazily, one write at a time: the commands handed out while a write is under way
/// queue up and go in the next one together. Under load the writes grow instead of multiplying, so the deliveries of
/// many steers share one write transaction and leave the store's writer to the steers themselves. Nothing waits on a
/// timer: a lone hand-out is written at once. The write runs off the stream's request (it must finish when the stream
/// is gone) and never throws.
/// </summary>
internal sealed class DeliveryRecorder(Func<IReadOnlyList<CommandRecord>, Task> write)
{
    /// <summary>At most this many hand-outs per write, so one write never holds the store's writer for long.</summary>
    internal const int MaxPerWrite = 128;

    private readonly Lock _gate = new();
    private readonly List<(long Through, TaskCompletionSource Done)> _drains = [];
    private List<CommandRecord> _queued = [];
    private bool _pumping;

    // Hand-outs queued and hand-outs written (or given up) since the start, in queue order: a drain waits for a count.
    private long _queuedCount;
    private long _doneCount;

    /// <summary>Queues hand-outs to record; starts the writer when none is running.</summary>
    public void Add(IReadOnlyList<CommandRecord> handed)
    {
        lock (_gate)
        {
            _queued.AddRange(handed);
            _queuedCount += handed.Count;
            if (_pumping)
            {
                return;
            }
            _pumping = true;
            using (ExecutionContext.SuppressFlow())
            {
                // Not the stream's request: no audit scope, no cancellation.
                _ = Task.Run(PumpAsync, CancellationToken.None);
            }
        }
    }

    /// <summary>
    /// Completes once every hand-out queued before the call is written (or given up), so a clean stop leaves none
    /// behind. Hand-outs queued after it are not waited for: a steady stream of steers never holds a drain up.
    /// </summary>
    public Task DrainAsync()
    {
        lock (_gate)
        {
            if (_doneCount >= _queuedCount)
            {
                return Task.CompletedTask;
            }
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _drains.Add((_queuedCount, done));
            return done.Task;
        }
    }

    private async Task PumpAsync()
    {
        while (true)
        {
            List<CommandRecord> batch;
            lock (_gate)
            {
                if (_queued.Count == 0)
                {
                    _pumping = false;
                    return;
                }
                if (_queued.Count <= MaxPerWrite)
                {
                    batch = _queued;
                    _queued = [];
                }
                else
                {
                    batch = _queued.GetRange(0, MaxPerWrite);
                    _queued.RemoveRange(0, MaxPerWrite);
                }
            }
            try
            {
                await write(batch);
            }
            catch
            {
                // The write is not meant to throw. Should it, the writer stops (the next hand-out starts one again) and
                // every drain is let go: its hand-outs stay queued in the store, to be handed out again.
                lock (_gate)
                {
                    _pumping = false;
                    _doneCount += batch.Count;
                    _drains.ForEach(drain => drain.Done.TrySetResult());
                    _drains.Clear();
                }
                throw;
            }
            lock (_gate)
            {
                _doneCount += batch.Count;
                _drains.RemoveAll(drain => drain.Through <= _doneCount && drain.Done.TrySetResult());
            }
        }
    }
}
