using System.Data.Common;
using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace SessionMesh.Store;

/// <summary>
/// Group commit, shared by the SQLite and PostgreSQL stores. Writers run one at a time under one lock, but a write
/// transaction is a savepoint inside a batch (one outer transaction on the writer connection) rather than a
/// transaction of its own. A caller's commit releases its savepoint and hands the lock to the next writer in the
/// queue; whoever leaves the lock with nobody queued (or with the batch at its size or age bound) commits the batch —
/// one fsync for all of them — and every caller of the batch returns from its commit only then. A lone writer commits
/// at once: nothing ever waits on a timer. Writers that arrive during the fsync queue on the lock and form the next
/// batch. A write nobody waits on can ride in the next batch instead of committing alone (see
/// <see cref="BeginRidingAsync"/>).
/// </summary>
/// <remarks>
/// A later caller of a batch reads what earlier callers of the same batch wrote before it is durable. That is safe
/// because the batch commits or fails as a whole: if the commit fails, every caller of the batch gets the error, none
/// of their writes is kept, and nothing was published (callers publish after their commit returns). The price of
/// sharing: a caller's commit waits for the writers queued behind it in its batch, so a caller must never hold a write
/// transaction while waiting for another write's commit to return.
/// </remarks>
/// <param name="logger">Where failed batches are logged.</param>
/// <param name="beginBatch">Begins the outer transaction of a new batch on the writer connection (opening it when needed).</param>
/// <param name="refused">What a batch's callers get when its commit failed with the given exception (the store's storage_full, say).</param>
/// <param name="closeWriter">Closes the writer connection after a failure left it in an unknown state; the next batch opens a new one.</param>
// Not disposable: its SemaphoreSlim is never disposed (see _lock).
#pragma warning disable CA1001
public sealed partial class GroupCommit(
    ILogger logger,
    Func<CancellationToken, Task<DbTransaction>> beginBatch,
    Func<Exception, Exception> refused,
    Func<ValueTask> closeWriter)
#pragma warning restore CA1001
{
    /// <summary>The savepoint of the one caller inside the batch at a time.</summary>
    public const string CallerSavepoint = "caller";

    // Never disposed: a transaction disposed after the store still releases it, and a SemaphoreSlim whose wait handle
    // is never asked for holds nothing to free.
    private readonly SemaphoreSlim _lock = new(1, 1);
    private int _queuedWriters;
    private long _batchCommits;

    // Written only under _lock; read without it only by a rider deciding whether to wait (GroupCommit.Riders.cs).
    private WriteBatch? _batch;

    /// <summary>Batches committed with at least one write in them: one fsync each.</summary>
    public long BatchCommits => Interlocked.Read(ref _batchCommits);

    /// <summary>A batch with this many writes commits even though more writers are queued.</summary>
    public int MaxBatchOperations { get; set; } = 256;

    /// <summary>A batch this old commits even though more writers are queued, so its first callers are not kept waiting.</summary>
    public TimeSpan MaxBatchAge { get; set; } = TimeSpan.FromMilliseconds(5);

    /// <summary>Test hook: runs just before a batch's COMMIT, holding the lock; throwing fails the batch.</summary>
    public Func<Task>? BeforeBatchCommitAsync { get; set; }

    /// <summary>
    /// Takes the lock and opens a write in the batch (beginning one when none is open): the write holds the lock until
    /// it commits or is disposed. A failure of the writer connection fails the open batch, and the next write starts on
    /// a new connection.
    /// </summary>
    public Task<BatchedWrite> BeginAsync(CancellationToken cancellationToken) => BeginAsync(counted: false, cancellationToken);

    /// <param name="counted">The writer is already counted as queued (a rider woken by the batch it joins).</param>
    /// <param name="cancellationToken">Gives up waiting for the lock.</param>
    private async Task<BatchedWrite> BeginAsync(bool counted, CancellationToken cancellationToken)
    {
        await AcquireAsync(cancellationToken, counted);
        try
        {
            if (_batch is null)
            {
                try
                {
                    Volatile.Write(ref _batch, new WriteBatch(await beginBatch(cancellationToken)));
                    WakeRiders();
                }
                catch (Exception ex) when (ex is not (DbException or InvalidOperationException))
                {
                    // Cancelled half-way (after BEGIN, say): the connection may be left inside a transaction nobody owns.
                    await closeWriter();
                    throw;
                }
            }
            cancellationToken.ThrowIfCancellationRequested();
            // Not cancelled half-way: a savepoint cut short could leave the batch's transaction aborted under the writes
            // already in it, and its commit would then quietly roll them back.
            await _batch.Transaction.SaveAsync(CallerSavepoint, CancellationToken.None);
            return new BatchedWrite(this, _batch);
        }
        catch (Exception ex) when (ex is DbException or InvalidOperationException)
        {
            try
            {
                if (_batch is { } broken)
                {
                    await AbortAsync(broken, ex);
                }
                else
                {
                    await closeWriter();
                }
            }
            finally
            {
                await LeaveAsync();
            }
            throw;
        }
        catch
        {
            await LeaveAsync();
            throw;
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> on the writer connection outside any batch (migrations, pragmas, checkpoints),
    /// holding the lock: the open batch is committed first.
    /// </summary>
    public async Task<T> OutsideBatchAsync<T>(Func<Task<T>> work, CancellationToken cancellationToken)
    {
        await AcquireAsync(cancellationToken);
        try
        {
            await CommitBatchAsync();
            return await work();
        }
        finally
        {
            await LeaveAsync();
        }
    }

    /// <inheritdoc cref="OutsideBatchAsync{T}(Func{Task{T}}, CancellationToken)"/>
    public Task OutsideBatchAsync(Func<Task> work, CancellationToken cancellationToken) =>
        OutsideBatchAsync(async () => { await work(); return true; }, cancellationToken);

    /// <summary>Takes the lock, counted as queued while waiting so that the holder hands the lock on rather than commit.</summary>
    /// <param name="cancellationToken">Gives up waiting.</param>
    /// <param name="counted">Already counted as queued (a rider, by the writer that woke it).</param>
    private async Task AcquireAsync(CancellationToken cancellationToken, bool counted = false)
    {
        if (!counted)
        {
            Interlocked.Increment(ref _queuedWriters);
        }
        try
        {
            await _lock.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            Interlocked.Decrement(ref _queuedWriters);
            // The holder may have counted on this writer to commit the batch after it: do it in its place.
            _ = FlushAbandonedBatchAsync();
            throw;
        }
        Interlocked.Decrement(ref _queuedWriters);
    }

    private async Task FlushAbandonedBatchAsync()
    {
        await AcquireAsync(CancellationToken.None);
        await LeaveAsync();
    }

    /// <summary>
    /// Releases the lock, first committing the open batch when no writer is queued to continue it or when it reached
    /// its size or age bound. Never throws: a failed commit reaches the batch's callers through
    /// <see cref="WriteBatch.Durable"/>.
    /// </summary>
    internal async ValueTask LeaveAsync()
    {
        try
        {
            if (_batch is { } batch
                && (Volatile.Read(ref _queuedWriters) == 0
                    || batch.Operations >= MaxBatchOperations
                    || Stopwatch.GetElapsedTime(batch.StartedAt) >= MaxBatchAge))
            {
                await CommitBatchAsync();
            }
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>Commits the open batch, if any; call only while holding the lock. Never throws.</summary>
    private async ValueTask CommitBatchAsync()
    {
        if (_batch is not { } batch)
        {
            return;
        }
        _batch = null;
        Exception? error = null;
        try
        {
            if (BeforeBatchCommitAsync is { } hook)
            {
                await hook();
            }
            await batch.Transaction.CommitAsync(CancellationToken.None);
            if (batch.Operations > 0)
            {
                Interlocked.Increment(ref _batchCommits);
            }
        }
        catch (Exception ex)
        {
            // A commit the disk has no room for fails its callers with storage_full.
            error = refused(ex);
            LogBatchCommitFailed(logger, ex, batch.Operations);
        }
        await EndBatchAsync(batch, error);
    }

    /// <summary>
    /// Fails the open batch after its connection was left in an unknown state (a savepoint that could not be rolled
    /// back): everything in it is rolled back and its callers get <paramref name="error"/>. Call only while holding
    /// the lock.
    /// </summary>
    internal async ValueTask AbortAsync(WriteBatch batch, Exception error)
    {
        if (!ReferenceEquals(_batch, batch))
        {
            return;
        }
        _batch = null;
        LogBatchAborted(logger, error, batch.Operations);
        await EndBatchAsync(batch, error);
    }

    private async ValueTask EndBatchAsync(WriteBatch batch, Exception? error)
    {
        try
        {
            // Rolls back when the commit did not happen; nothing to do after it did.
            await batch.Transaction.DisposeAsync();
        }
        catch (DbException)
        {
            error ??= new InvalidOperationException("The write batch could not be closed.");
        }
        if (error is not null)
        {
            // The connection is in an unknown state: the next write opens another.
            await closeWriter();
        }
        batch.Complete(error);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Committing a batch of {Operations} writes failed; every write of the batch is rolled back")]
    private static partial void LogBatchCommitFailed(ILogger logger, Exception exception, int operations);

    [LoggerMessage(Level = LogLevel.Error, Message = "A write could not be rolled back alone; the batch of {Operations} writes before it is rolled back too")]
    private static partial void LogBatchAborted(ILogger logger, Exception exception, int operations);
}
