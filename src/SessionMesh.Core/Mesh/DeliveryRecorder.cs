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
    private List<CommandRecord> _queued = [];
    private Task _pump = Task.CompletedTask;
    private bool _pumping;

    /// <summary>Queues hand-outs to record; starts the writer when none is running.</summary>
    public void Add(IReadOnlyList<CommandRecord> handed)
    {
        lock (_gate)
        {
            _queued.AddRange(handed);
            if (_pumping)
            {
                return;
            }
            _pumping = true;
            using (ExecutionContext.SuppressFlow())
            {
                // Not the stream's request: no audit scope, no cancellation.
                _pump = Task.Run(PumpAsync, CancellationToken.None);
            }
        }
    }

    /// <summary>Waits until every hand-out queued so far is written (or given up), so a clean stop leaves none behind.</summary>
    public async Task DrainAsync()
    {
        while (true)
        {
            Task pump;
            lock (_gate)
            {
                if (!_pumping)
                {
                    return;
                }
                pump = _pump;
            }
            await pump.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private async Task PumpAsync()
    {
        try
        {
            await PumpQueuedAsync();
        }
        catch
        {
            // The write is not meant to throw; should it, the next hand-out starts a writer again.
            lock (_gate)
            {
                _pumping = false;
            }
            throw;
        }
    }

    private async Task PumpQueuedAsync()
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
            await write(batch);
        }
    }
}
