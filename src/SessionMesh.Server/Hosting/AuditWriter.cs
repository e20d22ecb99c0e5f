using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SessionMesh.Mesh;
using SessionMesh.Model;
using SessionMesh.Server.Observability;

namespace SessionMesh.Server.Hosting;

/// <summary>
/// Writes audit entries off the request path, many per transaction (group commit): a mutating call
/// pays no second fsync, and a burst of calls costs one. Drains what is queued at shutdown. Entries the store cannot
/// take (a full disk, most likely: the very calls refused with 507 then) are logged one by one instead — they hold no
/// secret, a key only by its public id — and counted in <c>session_mesh_audit_dropped_total</c>.
/// </summary>
internal sealed partial class AuditWriter(AuditService audit, MeshMetrics metrics, ILogger<AuditWriter> logger) : BackgroundService
{
    private readonly Channel<AuditRecord> _queue = Channel.CreateBounded<AuditRecord>(
        new BoundedChannelOptions(100_000) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    private readonly Lock _progressLock = new();
    private long _enqueued;
    private long _done;
    private long _dropped;
    private TaskCompletionSource _progress = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>How many entries could not be stored (logged instead) since start.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

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
            LogWriteFailed(logger, ex is MeshException { Kind: MeshErrorKind.StorageFull } ? null : ex, batch.Count);
            foreach (var entry in batch)
            {
                LogDropped(logger, entry.At, entry.KeyId, entry.Cluster, entry.Method, entry.Path, entry.Status, entry.Code);
            }
            Interlocked.Add(ref _dropped, batch.Count);
            metrics.AuditDropped(batch.Count);
        }
        lock (_progressLock)
        {
            _done += batch.Count;
            _progress.TrySetResult();
            _progress = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        batch.Clear();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Failed to write {Count} audit entries; each is logged below instead")]
    private static partial void LogWriteFailed(ILogger logger, Exception? exception, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Audit entry not stored: at={At} key_id={KeyId} cluster={Cluster} {Method} {Path} status={Status} code={Code}")]
    private static partial void LogDropped(ILogger logger, DateTimeOffset at, string keyId, string cluster, string method, string path, int status, string? code);
}
