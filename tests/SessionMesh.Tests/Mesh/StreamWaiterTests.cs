using Microsoft.Extensions.Time.Testing;
using SessionMesh.Mesh;

namespace SessionMesh.Tests.Mesh;

/// <summary>
/// A stream's reusable wait: ends when woken (by a watched task, a watched token, the stopping token or a direct wake-up)
/// or when its timeout passes on the mesh's clock; a wake-up between waits is kept for the next one; one waiter serves
/// wait after wait.
/// </summary>
public sealed class StreamWaiterTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(20);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_wait_times_out_on_the_mesh_clock_and_not_before()
    {
        var time = new FakeTimeProvider();
        using var waiter = new StreamWaiter(time);

        var wait = waiter.WaitAsync(TimeSpan.FromSeconds(15)).AsTask();
        time.Advance(TimeSpan.FromSeconds(14.9));
        Assert.False(wait.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(0.1));

        Assert.False(await wait.WaitAsync(s_timeout, Ct));
    }

    [Fact]
    public async Task A_wake_up_returns_before_the_woken_stream_runs()
    {
        using var waiter = new StreamWaiter(new FakeTimeProvider());
        using var woken = new ManualResetEventSlim();
        var wakeReturned = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stream = ResumeAsync();

        // Were the stream's continuation run inside Wake, Wake would wait for itself to return.
        var wake = Task.Run(waiter.Wake, Ct);
        await wake.WaitAsync(s_timeout, Ct);
        wakeReturned.SetResult();
        Assert.True(await stream.WaitAsync(s_timeout, Ct));

        async Task<bool> ResumeAsync()
        {
            var result = await waiter.WaitAsync(Timeout.InfiniteTimeSpan);
            wakeReturned.Task.Wait(s_timeout);
            return result;
        }
    }

    [Fact]
    public async Task Completing_a_watched_task_wakes_the_wait()
    {
        var time = new FakeTimeProvider();
        using var waiter = new StreamWaiter(time);
        var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        waiter.WakeOn(signal.Task);

        var wait = waiter.WaitAsync(TimeSpan.FromSeconds(15)).AsTask();
        Assert.False(wait.IsCompleted);
        signal.SetResult();

        Assert.True(await wait.WaitAsync(s_timeout, Ct));
    }

    [Fact]
    public async Task A_wake_up_between_waits_is_kept_for_the_next_wait_once()
    {
        var time = new FakeTimeProvider();
        using var waiter = new StreamWaiter(time);
        var signal = new TaskCompletionSource();
        waiter.WakeOn(signal.Task);
        signal.SetResult(); // runs the waiter's continuation here, before the next line

        // The change came while the stream was reading: its next wait returns at once ...
        Assert.True(await waiter.WaitAsync(TimeSpan.FromSeconds(15)).AsTask().WaitAsync(s_timeout, Ct));

        // ... and only that one: the wait after it waits for its timeout.
        var second = waiter.WaitAsync(TimeSpan.FromSeconds(15)).AsTask();
        Assert.False(second.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(15));
        Assert.False(await second.WaitAsync(s_timeout, Ct));
    }

    [Fact]
    public async Task An_already_completed_task_wakes_the_next_wait()
    {
        using var waiter = new StreamWaiter(new FakeTimeProvider());
        waiter.WakeOn(Task.CompletedTask);

        Assert.True(await waiter.WaitAsync(TimeSpan.FromSeconds(15)).AsTask().WaitAsync(s_timeout, Ct));
    }

    [Fact]
    public async Task A_task_watched_again_takes_one_continuation_and_still_wakes_a_later_wait()
    {
        var time = new FakeTimeProvider();
        using var waiter = new StreamWaiter(time);
        var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // Timeouts with the same pending signal: each loop of a stream watches it again.
        for (var i = 0; i < 3; i++)
        {
            waiter.WakeOn(signal.Task);
            var timedOut = waiter.WaitAsync(TimeSpan.FromSeconds(1)).AsTask();
            time.Advance(TimeSpan.FromSeconds(1));
            Assert.False(await timedOut.WaitAsync(s_timeout, Ct));
        }
        waiter.WakeOn(signal.Task);
        var wait = waiter.WaitAsync(TimeSpan.FromSeconds(15)).AsTask();
        signal.SetResult();

        Assert.True(await wait.WaitAsync(s_timeout, Ct));
    }

    [Fact]
    public async Task Cancelling_the_watched_token_wakes_the_wait_and_a_new_token_replaces_it()
    {
        var time = new FakeTimeProvider();
        using var waiter = new StreamWaiter(time);
        using var first = new CancellationTokenSource();
        using var second = new CancellationTokenSource();
        waiter.WakeOn(first.Token);
        waiter.WakeOn(second.Token);

        // The first token is no longer watched.
        await first.CancelAsync();
        var wait = waiter.WaitAsync(TimeSpan.FromSeconds(15)).AsTask();
        Assert.False(wait.IsCompleted);

        await second.CancelAsync();
        Assert.True(await wait.WaitAsync(s_timeout, Ct));
    }

    [Fact]
    public async Task Stopping_ends_this_wait_and_every_later_one_at_once()
    {
        var time = new FakeTimeProvider();
        using var stopping = new CancellationTokenSource();
        using var waiter = new StreamWaiter(time, stopping.Token);

        var wait = waiter.WaitAsync(Timeout.InfiniteTimeSpan).AsTask();
        await stopping.CancelAsync();

        Assert.True(await wait.WaitAsync(s_timeout, Ct));
        Assert.True(await waiter.WaitAsync(Timeout.InfiniteTimeSpan).AsTask().WaitAsync(s_timeout, Ct));
        Assert.True(await waiter.WaitAsync(TimeSpan.FromSeconds(15)).AsTask().WaitAsync(s_timeout, Ct));
    }

    [Fact]
    public async Task A_wait_that_was_woken_is_not_ended_early_by_its_old_timer()
    {
        var time = new FakeTimeProvider();
        using var waiter = new StreamWaiter(time);

        var first = waiter.WaitAsync(TimeSpan.FromSeconds(5)).AsTask();
        waiter.Wake();
        Assert.True(await first.WaitAsync(s_timeout, Ct));

        // The first wait's deadline passes during the second, which waits for its own.
        var second = waiter.WaitAsync(TimeSpan.FromSeconds(10)).AsTask();
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.False(second.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.False(await second.WaitAsync(s_timeout, Ct));
    }

    [Fact]
    public async Task A_shorter_wait_after_a_longer_one_times_out_at_its_own_deadline_and_the_old_one_is_ignored()
    {
        var time = new FakeTimeProvider();
        using var waiter = new StreamWaiter(time);

        var first = waiter.WaitAsync(TimeSpan.FromSeconds(10)).AsTask();
        waiter.Wake();
        Assert.True(await first.WaitAsync(s_timeout, Ct));
        var shorter = waiter.WaitAsync(TimeSpan.FromSeconds(3)).AsTask();
        time.Advance(TimeSpan.FromSeconds(3));
        Assert.False(await shorter.WaitAsync(s_timeout, Ct));

        // The first wait's deadline (t = 10 s) passes during the third, which runs to t = 23 s.
        var third = waiter.WaitAsync(TimeSpan.FromSeconds(20)).AsTask();
        time.Advance(TimeSpan.FromSeconds(7));
        Assert.False(third.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(13));
        Assert.False(await third.WaitAsync(s_timeout, Ct));
    }

    [Fact]
    public async Task Many_waiters_on_one_clock_each_time_out_at_their_own_deadline()
    {
        var time = new FakeTimeProvider();
        var seconds = Enumerable.Range(1, 60).OrderBy(i => (i * 37) % 61).ToList();
        var waiters = seconds.Select(_ => new StreamWaiter(time)).ToList();
        try
        {
            var waits = seconds.Select((s, i) => (Seconds: s, Wait: waiters[i].WaitAsync(TimeSpan.FromSeconds(s)).AsTask())).ToList();
            for (var t = 1; t <= 60; t++)
            {
                time.Advance(TimeSpan.FromSeconds(1));
                foreach (var (due, wait) in waits)
                {
                    if (due <= t)
                    {
                        Assert.False(await wait.WaitAsync(s_timeout, Ct));
                    }
                    else
                    {
                        Assert.False(wait.IsCompleted, $"a {due} s wait ended at {t} s");
                    }
                }
            }
        }
        finally
        {
            waiters.ForEach(w => w.Dispose());
        }
    }

    [Fact]
    public async Task A_wait_without_timeout_outlasts_the_timer_of_the_wait_before_it()
    {
        var time = new FakeTimeProvider();
        using var waiter = new StreamWaiter(time);

        // A keep-alive wait ends by a wake-up, its timer still armed; the next wait has no timeout.
        var first = waiter.WaitAsync(TimeSpan.FromSeconds(5)).AsTask();
        waiter.Wake();
        Assert.True(await first.WaitAsync(s_timeout, Ct));
        var forever = waiter.WaitAsync(Timeout.InfiniteTimeSpan).AsTask();

        time.Advance(TimeSpan.FromSeconds(10));
        Assert.False(forever.IsCompleted);
        waiter.Wake();
        Assert.True(await forever.WaitAsync(s_timeout, Ct));
    }

    [Fact]
    public async Task A_value_task_in_flight_wakes_the_wait_when_it_completes()
    {
        var time = new FakeTimeProvider();
        using var waiter = new StreamWaiter(time);
        var frame = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var next = new ValueTask<bool>(frame.Task);
        waiter.WakeOn(next);

        var wait = waiter.WaitAsync(TimeSpan.FromSeconds(15)).AsTask();
        time.Advance(TimeSpan.FromSeconds(15));
        Assert.False(await wait.WaitAsync(s_timeout, Ct));
        Assert.False(next.IsCompleted);

        wait = waiter.WaitAsync(TimeSpan.FromSeconds(15)).AsTask();
        frame.SetResult(true);
        Assert.True(await wait.WaitAsync(s_timeout, Ct));
        Assert.True(await next);
    }

    [Fact]
    public async Task A_completed_task_or_cancelled_token_watched_again_wakes_every_next_wait()
    {
        using var waiter = new StreamWaiter(new FakeTimeProvider());
        using var revoked = new CancellationTokenSource();
        await revoked.CancelAsync();

        for (var i = 0; i < 2; i++)
        {
            waiter.WakeOn(Task.CompletedTask);
            Assert.True(await waiter.WaitAsync(TimeSpan.FromSeconds(15)).AsTask().WaitAsync(s_timeout, Ct));
        }
        for (var i = 0; i < 2; i++)
        {
            waiter.WakeOn(revoked.Token);
            Assert.True(await waiter.WaitAsync(TimeSpan.FromSeconds(15)).AsTask().WaitAsync(s_timeout, Ct));
        }
    }

    [Fact]
    public async Task A_timeout_that_is_not_positive_returns_at_once()
    {
        using var waiter = new StreamWaiter(new FakeTimeProvider());

        Assert.False(await waiter.WaitAsync(TimeSpan.Zero));
        Assert.False(await waiter.WaitAsync(TimeSpan.FromSeconds(-1)));
    }
}
