using System.Diagnostics;
using Npgsql;

namespace SessionMesh.Store.Postgres;

/// <summary>
/// One transaction on the writer connection that the writes of many callers share, each in its own savepoint, holding
/// the cross-replica write lock until it commits. Touched only by the holder of the store's write lock, except
/// <see cref="Durable"/>, which callers await after handing the lock on.
/// </summary>
internal sealed class PostgresWriteBatch(NpgsqlTransaction transaction)
{
    private readonly TaskCompletionSource _durable = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public NpgsqlTransaction Transaction => transaction;

    public NpgsqlConnection Connection => transaction.Connection!;

    /// <summary>When the batch began, for the age bound (<see cref="Stopwatch.GetTimestamp"/>).</summary>
    public long StartedAt { get; } = Stopwatch.GetTimestamp();

    /// <summary>The writes released into the batch (committed savepoints).</summary>
    public int Operations { get; set; }

    /// <summary>Completes when the batch is committed, or faults with what made it fail.</summary>
    public Task Durable => _durable.Task;

    public void Complete(Exception? error)
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
