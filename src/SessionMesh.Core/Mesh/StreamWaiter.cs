using System.Threading.Tasks.Sources;

namespace SessionMesh.Mesh;

/// <summary>
/// The one wait a long-lived stream does between wake-ups, made once and re-armed each time: a wait ends when it is
/// woken (by a task it was told to watch, a token, or <see cref="Wake"/>) or when its timeout passes on the mesh's
/// clock. A wait allocates nothing: one timer is re-armed, each token is registered once, each task gets one
/// continuation. Per wake-up, the linked token source, delay task and <c>WhenAny</c> task of an ordinary race used to
/// outlive the garbage collector's youngest generation (they live until the stream's next wake-up, up to 15 s), so with
/// thousands of open streams every collection copied and compacted them.
/// </summary>
/// <remarks>
/// A wake-up that comes while no wait is in progress is kept for the next wait, which returns at once: a stream that
/// watches a task, reads the store, then waits never misses a change made in between. Wake-ups may be spurious (a
/// stream re-checks what it waits for). One waiter serves one stream: one wait at a time.
/// </remarks>
public sealed class StreamWaiter : IValueTaskSource<bool>, IDisposable
{
    private readonly TimeProvider _time;
    private readonly ITimer _timer;
    private readonly Action _wake;
    private readonly Lock _gate = new();
    private readonly CancellationTokenRegistration _stopping;
    private ManualResetValueTaskSourceCore<bool> _core;
    private State _state;
    private bool _stopped;
    private long _deadline;
    private Task? _watchedTask;
    private CancellationToken _watchedToken;
    private CancellationTokenRegistration _watchedTokenRegistration;

    private enum State
    {
        Idle,
        Waiting,
        Woken,
    }

    /// <summary>A waiter whose every wait ends at once when <paramref name="stopping"/> fires.</summary>
    public StreamWaiter(TimeProvider time, CancellationToken stopping = default)
    {
        _time = time;
        // A wake-up may come on a notifier's thread (a commit's, IMeshSignals.Listen): the stream carries on elsewhere.
        _core.RunContinuationsAsynchronously = true;
        _wake = Wake;
        _timer = time.CreateTimer(static state => ((StreamWaiter)state!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _stopping = stopping.UnsafeRegister(static state => ((StreamWaiter)state!).Stop(), this);
    }

    /// <summary>Wakes the wait in progress, or else the next one.</summary>
    public void Wake()
    {
        lock (_gate)
        {
            if (_state != State.Waiting)
            {
                _state = State.Woken;
                return;
            }
            _state = State.Idle;
        }
        _core.SetResult(true);
    }

    /// <summary>
    /// Wakes a wait when <paramref name="task"/> completes (the next wait, when it already has); a pending task already
    /// watched is not registered again.
    /// </summary>
    public void WakeOn(Task task)
    {
        if (task.IsCompleted)
        {
            Wake();
            return;
        }
        if (ReferenceEquals(task, _watchedTask))
        {
            return;
        }
        _watchedTask = task;
        task.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_wake);
    }

    /// <summary>
    /// Wakes a wait when <paramref name="next"/> completes. The caller reads its result only once it has completed (a
    /// value task takes one continuation, and this is it).
    /// </summary>
    public void WakeOn<T>(ValueTask<T> next)
    {
        if (next.IsCompleted)
        {
            Wake();
            return;
        }
        next.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_wake);
    }

    /// <summary>
    /// Wakes a wait when <paramref name="token"/> is cancelled (the next wait, when it already is): one token at a time
    /// (a key's revocation), registered again only when it changes.
    /// </summary>
    public void WakeOn(CancellationToken token)
    {
        if (token == _watchedToken)
        {
            if (token.IsCancellationRequested)
            {
                Wake();
            }
            return;
        }
        _watchedTokenRegistration.Dispose();
        _watchedToken = token;
        _watchedTokenRegistration = token.UnsafeRegister(static state => ((StreamWaiter)state!).Wake(), this);
    }

    /// <summary>
    /// Waits until woken (true) or until <paramref name="timeout"/> passes (false; at once when it is not positive).
    /// <see cref="Timeout.InfiniteTimeSpan"/> waits for a wake-up only.
    /// </summary>
    public ValueTask<bool> WaitAsync(TimeSpan timeout)
    {
        lock (_gate)
        {
            if (_stopped || _state == State.Woken)
            {
                _state = State.Idle;
                return new ValueTask<bool>(true);
            }
            var forever = timeout == Timeout.InfiniteTimeSpan;
            if (!forever && timeout <= TimeSpan.Zero)
            {
                return new ValueTask<bool>(false);
            }
            _core.Reset();
            _state = State.Waiting;
            _deadline = forever ? long.MaxValue : _time.GetTimestamp() + (long)(timeout.TotalSeconds * _time.TimestampFrequency);
            // A wait without a timeout disarms the timer an earlier wait may have left armed.
            _timer.Change(timeout, Timeout.InfiniteTimeSpan);
            return new ValueTask<bool>(this, _core.Version);
        }
    }

    private void Stop()
    {
        lock (_gate)
        {
            _stopped = true;
        }
        Wake();
    }

    private void OnTimer()
    {
        lock (_gate)
        {
            if (_state != State.Waiting || _deadline == long.MaxValue)
            {
                return;
            }
            // An earlier wait's timer (it was already due when a wake-up ended that wait), or a timer a little ahead of
            // the clock: wait for what is left.
            var left = _deadline - _time.GetTimestamp();
            if (left > 0)
            {
                var ms = Math.Ceiling(left * 1000.0 / _time.TimestampFrequency);
                _timer.Change(TimeSpan.FromMilliseconds(Math.Max(1, ms)), Timeout.InfiniteTimeSpan);
                return;
            }
            _state = State.Idle;
        }
        _core.SetResult(false);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _timer.Dispose();
        _stopping.Dispose();
        _watchedTokenRegistration.Dispose();
    }

    bool IValueTaskSource<bool>.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
