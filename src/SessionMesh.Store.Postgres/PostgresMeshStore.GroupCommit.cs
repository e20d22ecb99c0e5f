using System.Diagnostics;
using System.Globalization;
using Npgsql;
using Microsoft.Extensions.Logging;

namespace SessionMesh.Store.Postgres;

/// <summary>
/// Group commit, as in the SQLite store. Writers still run one at a time under <see cref="_writeLock"/> (and, across
/// replicas, under the advisory lock the batch takes), but a write transaction is a
/// savepoint inside a batch (one outer transaction on the writer connection) rather than a transaction of its own.
/// A caller's commit releases its savepoint and hands the lock to the next writer in the queue; whoever leaves the
/// lock with nobody queued (or with the batch at its size or age bound) commits the batch — one fsync for all of
/// them — and every caller of the batch returns from <see cref="IMeshWriteTransaction.CommitAsync"/> only then.
/// A lone writer commits at once: nothing ever waits on a timer. Writers that arrive during the fsync queue on the
/// lock and form the next batch.
/// </summary>
/// <remarks>
/// A later caller of a batch reads what earlier callers of the same batch wrote before it is durable. That is safe
/// because the batch commits or fails as a whole: if the commit fails, every caller of the batch gets the error,
/// none of their writes is kept, and nothing was published (callers publish after their commit returns).
/// The price of sharing: a caller's commit waits for the writers queued behind it in its batch, so a caller must
/// never hold a write transaction while waiting for another write's commit to return.
/// </remarks>
public sealed partial class PostgresMeshStore
{
    /// <summary>The savepoint of the one caller inside the batch at a time.</summary>
    internal const string CallerSavepoint = "caller";

    private int _queuedWriters;
    private long _batchCommits;

    // Guarded by _writeLock.
    private PostgresWriteBatch? _batch;

    /// <summary>Batches committed with at least one write in them: one fsync each.</summary>
    internal long BatchCommits => Interlocked.Read(ref _batchCommits);

    /// <summary>A batch with this many writes commits even though more writers are queued.</summary>
    internal int MaxBatchOperations { get; init; } = 256;

    /// <summary>A batch this old commits even though more writers are queued, so its first callers are not kept waiting.</summary>
    internal TimeSpan MaxBatchAge { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>Test hook: runs just before a batch's COMMIT, holding the write lock; throwing fails the batch.</summary>
    internal Func<Task>? BeforeBatchCommitAsync { get; set; }

    /// <summary>Takes the write lock, counted as queued while waiting so that the holder hands the lock on rather than commit.</summary>
    private async Task AcquireWriteLockAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _queuedWriters);
        try
        {
            await _writeLock.WaitAsync(cancellationToken);
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
        await AcquireWriteLockAsync(CancellationToken.None);
        await LeaveWriteLockAsync();
    }

    /// <summary>
    /// The batch a new write joins, begun when none is open — taking the cross-replica write lock
    /// (<see cref="WriteLockKey"/>) up front, held until the batch ends; call only while holding the write lock.
    /// </summary>
    private async Task<PostgresWriteBatch> JoinBatchAsync(CancellationToken cancellationToken)
    {
        if (_batch is { } open)
        {
            return open;
        }
        var connection = await GetWriterAsync(cancellationToken);
        var transaction = await connection.BeginTransactionAsync(cancellationToken);
        _batch = new PostgresWriteBatch(transaction);
        await using var lockWrites = new NpgsqlCommand(s_takeWriteLockSql, connection, transaction);
        await lockWrites.ExecuteNonQueryAsync(cancellationToken);
        return _batch;
    }

    private static readonly string s_takeWriteLockSql = $"SELECT pg_advisory_xact_lock({WriteLockKey.ToString(CultureInfo.InvariantCulture)})";

    /// <summary>
    /// Releases the write lock, first committing the open batch when no writer is queued to continue it or when it
    /// reached its size or age bound. Never throws: a failed commit reaches the batch's callers through
    /// <see cref="PostgresWriteBatch.Durable"/>.
    /// </summary>
    internal async ValueTask LeaveWriteLockAsync()
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
            _writeLock.Release();
        }
    }

    /// <summary>Commits the open batch, if any; call only while holding the write lock. Never throws.</summary>
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
            error = Refused(ex);
            LogBatchCommitFailed(_logger, ex, batch.Operations);
        }
        await EndBatchAsync(batch, error);
    }

    /// <summary>
    /// Fails the open batch after its connection was left in an unknown state (a savepoint that could not be rolled
    /// back): everything in it is rolled back and its callers get <paramref name="error"/>. Call only while holding
    /// the write lock.
    /// </summary>
    internal async ValueTask AbortBatchAsync(PostgresWriteBatch batch, Exception error)
    {
        if (!ReferenceEquals(_batch, batch))
        {
            return;
        }
        _batch = null;
        LogBatchAborted(_logger, error, batch.Operations);
        await EndBatchAsync(batch, error);
    }

    private async ValueTask EndBatchAsync(PostgresWriteBatch batch, Exception? error)
    {
        try
        {
            // Rolls back when the commit did not happen; nothing to do after it did.
            await batch.Transaction.DisposeAsync();
        }
        catch (NpgsqlException)
        {
            error ??= new InvalidOperationException("The write batch could not be closed.");
        }
        if (error is not null)
        {
            // The connection is in an unknown state: the next write opens another.
            await CloseWriterAsync();
        }
        batch.Complete(error);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Committing a batch of {Operations} writes failed; every write of the batch is rolled back")]
    private static partial void LogBatchCommitFailed(ILogger logger, Exception exception, int operations);

    [LoggerMessage(Level = LogLevel.Error, Message = "A write could not be rolled back alone; the batch of {Operations} writes before it is rolled back too")]
    private static partial void LogBatchAborted(ILogger logger, Exception exception, int operations);
}
