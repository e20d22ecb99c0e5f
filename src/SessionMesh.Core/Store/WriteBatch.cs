using System.Data.Common;
using System.Diagnostics;

namespace SessionMesh.Store;

/// <summary>
/// One outer transaction on a store's writer connection that the writes of many callers share, each in its own
/// savepoint, committed at once (one fsync). Touched only by the holder of the <see cref="GroupCommit"/> lock, except
/// <see cref="Durable"/>, which callers await after handing the lock on.
/// </summary>
public sealed class WriteBatch(DbTransaction transaction)
{
    private readonly TaskCompletionSource _durable = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The outer transaction.</summary>
    public DbTransaction Transaction => transaction;

    /// <summary>When the batch began, for the age bound (<see cref="Stopwatch.GetTimestamp"/>).</summary>
    public long StartedAt { get; } = Stopwatch.GetTimestamp();

    /// <summary>The writes released into the batch (committed savepoints).</summary>
    public int Operations { get; internal set; }

    /// <summary>Completes when the batch is committed, or faults with what made it fail.</summary>
    public Task Durable => _durable.Task;

    internal void Complete(Exception? error)
    {
        if (error is null)
        {
            _durable.TrySetResult();
        }
        else
        {
            _durable.TrySetException(error);
        }
    }
}
