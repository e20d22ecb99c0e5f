using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SessionMesh.Mesh;
using SessionMesh.Model;

namespace SessionMesh.Server.Hosting;

/// <summary>
/// Writes audit entries off the request path, many per transaction (group commit): a mutating call
/// pays no second fsync, and a burst of calls costs one. Drains what is queued at shutdown.
/// </summary>
internal sealed partial class AuditWriter(AuditService audit, ILogger<AuditWriter> logger) : BackgroundService
{
    private readonly Channel<AuditRecord> _queue = Channel.CreateBounded<AuditRecord>(
        new BoundedChannelOptions(100_000) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    private readonly Lock _progressLock = new();
    private long _enqueued;
    private long _done;
    private TaskCompletionSource _progress = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async ValueTask EnqueueAsync(AuditRecord entry, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _enqueued);
        await _queue.Writer.WriteAsync(entry, cancellationToken);
    }

    /// <summary>Completes once everything enqueued before the call has been written (or failed to be).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        var target = Interlocked.Read(ref _enqueued);
        while (true)
        {
            Task progress;
            lock (_progressLock)
            {
                if (_done >= target)
                {
                    return;
                }
                progress = _progress.Task;
            }
            await progress.WaitAsync(cancellationToken);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<AuditRecord>();
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
            {
                await WriteBatchAsync(batch);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        await WriteBatchAsync(batch);
    }

    private async Task WriteBatchAsync(List<AuditRecord> batch)
    {
        while (batch.Count < 1000 && _queue.Reader.TryRead(out var entry))
        {
            batch.Add(entry);
        }
        try
        {
            await audit.RecordAsync(batch, CancellationToken.None);
        }
        catch (Exception ex)
        {
            LogWriteFailed(logger, ex, batch.Count);
        }
        lock (_progressLock)
        {
            _done += batch.Count;
            _progress.TrySetResult();
            _progress = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        batch.Clear();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Failed to write {Count} audit entries")]
    private static partial void LogWriteFailed(ILogger logger, Exception exception, int count);
}
