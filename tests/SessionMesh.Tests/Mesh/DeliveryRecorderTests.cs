using SessionMesh.Mesh;
using SessionMesh.Model;

namespace SessionMesh.Tests.Mesh;

/// <summary>
/// Hand-outs are recorded one write at a time: those queued while a write is under way go into the next write
/// together, and a drain waits for every hand-out queued before it.
/// </summary>
public sealed class DeliveryRecorderTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(20);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task HandOuts_queued_during_a_write_share_the_next_write_in_order()
    {
        var writes = new List<string[]>();
        var firstEntered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var releaseFirst = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var recorder = new DeliveryRecorder(async batch =>
        {
            lock (writes)
            {
                writes.Add(batch.Select(c => c.CommandId).ToArray());
            }
            if (firstEntered.TrySetResult())
            {
                await releaseFirst.Task;
            }
        });

        recorder.Add([Command("c1")]);
        await firstEntered.Task.WaitAsync(s_timeout, Ct);
        recorder.Add([Command("c2")]);
        recorder.Add([Command("c3"), Command("c4")]);
        var drained = recorder.DrainAsync();
        Assert.False(drained.IsCompleted);
        releaseFirst.SetResult();
        await drained.WaitAsync(s_timeout, Ct);

        Assert.Equal([["c1"], ["c2", "c3", "c4"]], writes);
    }

    [Fact]
    public async Task A_large_backlog_is_written_in_bounded_writes_and_a_drain_with_nothing_queued_returns_at_once()
    {
        var writes = new List<int>();
        var firstEntered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var recorder = new DeliveryRecorder(async batch =>
        {
            lock (writes)
            {
                writes.Add(batch.Count);
            }
            firstEntered.TrySetResult();
            await gate.Task;
        });
        Assert.True(recorder.DrainAsync().IsCompleted);

        recorder.Add([Command("first")]);
        await firstEntered.Task.WaitAsync(s_timeout, Ct);
        recorder.Add(Enumerable.Range(0, DeliveryRecorder.MaxPerWrite + 10).Select(i => Command($"c{i}")).ToList());
        gate.SetResult();
        await recorder.DrainAsync().WaitAsync(s_timeout, Ct);

        Assert.Equal([1, DeliveryRecorder.MaxPerWrite, 10], writes);
    }

    [Fact]
    public async Task A_drain_waits_for_the_hand_outs_queued_before_it_not_for_those_after()
    {
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var releaseFirst = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var releaseSecond = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var writes = 0;
        var recorder = new DeliveryRecorder(async _ =>
        {
            if (Interlocked.Increment(ref writes) == 1)
            {
                entered.SetResult();
                await releaseFirst.Task;
            }
            else
            {
                await releaseSecond.Task;
            }
        });

        recorder.Add([Command("before")]);
        await entered.Task.WaitAsync(s_timeout, Ct);
        var drained = recorder.DrainAsync();
        recorder.Add([Command("after")]);
        Assert.False(drained.IsCompleted);
        releaseFirst.SetResult();

        // The write of "after" is still held, and the drain does not wait for it.
        await drained.WaitAsync(s_timeout, Ct);
        Assert.False(recorder.DrainAsync().IsCompleted);
        releaseSecond.SetResult();
        await recorder.DrainAsync().WaitAsync(s_timeout, Ct);
    }

    private static CommandRecord Command(string id)
    {
        var now = DateTimeOffset.UnixEpoch;
        return new CommandRecord(id, "c1", "a1", CommandKind.Steer, CommandStatus.Queued, 1, "d", "inject", null, null, null, null, null, null,
            now, null, null, now.AddSeconds(60), "k", null);
    }
}
