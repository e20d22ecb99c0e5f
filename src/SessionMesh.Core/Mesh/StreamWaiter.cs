using System.Threading.Tasks.Sources;

namespace SessionMesh.Mesh;

/// <summary>
/// The one wait a long-lived stream does between wake-ups, made once and re-armed each time: a wait ends when it is
/// woken (by a task it was told to watch, a token, or <see cref="Wake"/>) or when its timeout passes on the mesh's
/// clock. A wait allocates nothing: its timeout is an entry in the clock's <see cref="DeadlineQueue"/> (shared by every
/// waiter), each token is registered once, each task gets one continuation. Per wake-up, the linked token source, delay task and <c>WhenAny</c> task of an ordinary race used to
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
    private readonly DeadlineQueue _deadlines;
    private readonly Action _wake;
    private readonly Lock _gate = new();
    private readonly CancellationTokenRegistration _stopping;
    private ManualResetValueTaskSourceCore<bool> _core;
    private State _state;
    private bool _stopped;
    private long _deadline;
    // The deadline of this waiter's live entry in the queue (long.MaxValue: none), and its version: an entry of an older
    // version was superseded by an earlier deadline and is ignored when it fires.
    private long _scheduled = long.MaxValue;
    private int _version;
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
        _deadlines = DeadlineQueue.For(time);
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
            // An entry due no later serves this wait too (when it fires early it is queued again for the rest); one due
            // later is superseded. Keep-alive waits, each a little later than the last, queue one entry per timeout.
            if (_deadline < _scheduled)
            {
                _scheduled = _deadline;
                _deadlines.Schedule(this, ++_version, _deadline);
            }
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

    /// <summary>The queue's call when the entry of <paramref name="version"/> comes due.</summary>
    internal void OnDeadline(int version)
    {
        lock (_gate)
        {
            if (version != _version)
            {
                return;
            }
            _scheduled = long.MaxValue;
            if (_state != State.Waiting || _deadline == long.MaxValue)
            {
                return;
            }
            // An entry of an earlier wait (a wake-up ended that wait first), due before this wait's deadline: the rest
            // is queued again.
            if (_deadline > _time.GetTimestamp())
            {
                _scheduled = _deadline;
                _deadlines.Schedule(this, ++_version, _deadline);
                return;
            }
            _state = State.Idle;
        }
        _core.SetResult(false);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_gate)
        {
            // The queue may hold this waiter until its entry comes due: it lets go of the stream meanwhile.
            _version++;
            _watchedTask = null;
        }
        _stopping.Dispose();
        _watchedTokenRegistration.Dispose();
    }

    bool IValueTaskSource<bool>.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
