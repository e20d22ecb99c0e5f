using System.Runtime.CompilerServices;

namespace SessionMesh.Mesh;

/// <summary>
/// The timeouts of every <see cref="StreamWaiter"/> on one clock, behind one timer: a queue ordered by deadline whose
/// timer is armed for the earliest. With one timer per waiter, 10,000 open streams were 20,000 timers (a keep-alive and
/// a renewal each), and the runtime's timer queue walked every timer due within its next third of a second each time one
/// fired: a tenth of an idle server's CPU. Here a timeout costs a push and a pop.
/// </summary>
/// <remarks>
/// On the system clock, deadlines that fall within <see cref="SystemSlack"/> of each other fire together (never before
/// their time), so the timer fires at most about sixty times a second however many streams there are. On any other clock
/// (a test's) each fires at its exact time. A waiter's entry is ignored when it fires if the waiter scheduled a newer
/// one since (<c>version</c>).
/// </remarks>
internal sealed class DeadlineQueue
{
    /// <summary>How late a deadline may fire on the system clock so that it shares the timer with later ones.</summary>
    public static readonly TimeSpan SystemSlack = TimeSpan.FromMilliseconds(16);

    private static readonly ConditionalWeakTable<TimeProvider, DeadlineQueue> s_queues = [];

    private readonly TimeProvider _time;
    private readonly long _slack;
    private readonly ITimer _timer;
    private readonly PriorityQueue<(StreamWaiter Waiter, int Version), long> _queue = new();
    private readonly Lock _gate = new();
    private long _armedFor = long.MaxValue;

    private DeadlineQueue(TimeProvider time)
    {
        _time = time;
        _slack = time == TimeProvider.System ? (long)(SystemSlack.TotalSeconds * time.TimestampFrequency) : 0;
        _timer = time.CreateTimer(static state => ((DeadlineQueue)state!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>The queue of <paramref name="time"/>, made on first use.</summary>
    public static DeadlineQueue For(TimeProvider time) => s_queues.GetValue(time, static t => new DeadlineQueue(t));

    /// <summary>
    /// Calls <paramref name="waiter"/>'s <see cref="StreamWaiter.OnDeadline"/> with <paramref name="version"/> once the
    /// clock reaches <paramref name="deadline"/> (a timestamp of the clock).
    /// </summary>
    public void Schedule(StreamWaiter waiter, int version, long deadline)
    {
        lock (_gate)
        {
            _queue.Enqueue((waiter, version), deadline);
            if (deadline < _armedFor)
            {
                Arm(deadline);
            }
        }
    }

    private void OnTimer()
    {
        List<(StreamWaiter Waiter, int Version)>? due = null;
        lock (_gate)
        {
            var now = _time.GetTimestamp();
            while (_queue.TryPeek(out var entry, out var deadline) && deadline <= now)
            {
                _queue.Dequeue();
                (due ??= []).Add(entry);
            }
            _armedFor = long.MaxValue;
            if (_queue.TryPeek(out _, out var next))
            {
                Arm(next);
            }
        }
        // Outside the lock: a waiter may schedule again from here.
        foreach (var (waiter, version) in due ?? [])
        {
            waiter.OnDeadline(version);
        }
    }

    // Never early: a timer ahead of the clock finds nothing due and arms again for what is left, at least 1 ms on.
    private void Arm(long deadline)
    {
        _armedFor = deadline;
        var left = deadline + _slack - _time.GetTimestamp();
        var ms = Math.Max(1, Math.Ceiling(left * 1000.0 / _time.TimestampFrequency));
        _timer.Change(TimeSpan.FromMilliseconds(ms), Timeout.InfiniteTimeSpan);
    }
}
