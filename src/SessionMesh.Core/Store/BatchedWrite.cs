using System.Data.Common;

namespace SessionMesh.Store;

/// <summary>
/// The life of one write transaction in a <see cref="WriteBatch"/>: it holds the <see cref="GroupCommit"/> lock from
/// <see cref="GroupCommit.BeginAsync(CancellationToken)"/> (or <see cref="GroupCommit.BeginRidingAsync"/>) until it commits (releases its savepoint into the batch) or is disposed (rolls
/// back to its savepoint, so only its own changes vanish). A store's write transaction owns one and adds the SQL.
/// </summary>
public sealed class BatchedWrite(GroupCommit group, WriteBatch batch) : IAsyncDisposable
{
    private bool _committed;
    private bool _leftLock;
    private bool _disposed;

    /// <summary>The batch the write is in.</summary>
    public WriteBatch Batch => batch;

    /// <summary>
    /// A statement of this write the store refused for want of space: the batch fails with it if the write cannot be
    /// rolled back alone.
    /// </summary>
    public Exception? Refused { get; set; }

    /// <summary>Throws when the write can no longer be used: committed, or disposed (named as <paramref name="owner"/>).</summary>
    public void ThrowIfEnded(object owner)
    {
        ObjectDisposedException.ThrowIf(_disposed, owner);
        if (_committed)
        {
            throw new InvalidOperationException("The transaction is already committed.");
        }
    }

    /// <summary>
    /// Releases the savepoint into the batch, hands the lock on, and returns once the batch that holds this write is
    /// committed — or throws what made that commit fail, in which case none of this write was kept. The wait for the
    /// batch is not cancellable: once released into the batch, the write commits or fails with it.
    /// </summary>
    public async Task CommitAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_committed)
        {
            throw new InvalidOperationException("The transaction is already committed.");
        }
        await batch.Transaction.ReleaseAsync(GroupCommit.CallerSavepoint, cancellationToken);
        _committed = true;
        batch.Operations++;
        _leftLock = true;
        await group.LeaveAsync();
        await batch.Durable;
    }

    /// <summary>Rolls the write back unless it committed, and hands the lock on.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        if (_leftLock)
        {
            return;
        }
        _leftLock = true;
        try
        {
            // ROLLBACK TO keeps the savepoint open: release it too, so the batch carries on without it.
            await batch.Transaction.RollbackAsync(GroupCommit.CallerSavepoint);
            await batch.Transaction.ReleaseAsync(GroupCommit.CallerSavepoint);
        }
        catch (Exception ex) when (ex is DbException or InvalidOperationException)
        {
            // The connection is in an unknown state: the batch cannot be trusted, so it fails as a whole
            // and the store opens a new connection for the next write.
            await group.AbortAsync(batch, Refused ?? ex);
        }
        finally
        {
            await group.LeaveAsync();
        }
    }
}
