using SessionMesh.Mesh;

namespace SessionMesh.Tests.Mesh;

/// <summary>
/// A key's cancellation token (what long waits share for a rare wake-up, a key's revocation) is cancelled by the next
/// notification of that key only, by a wake-up of everything, and by a release of the key; after that the key has a
/// fresh one.
/// </summary>
public sealed class SignalCancellationTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(20);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Notify_cancels_the_keys_token_and_no_other()
    {
        var signals = new InProcessMeshSignals();
        var revoked = signals.NextCancellation(SignalKeys.Key("k1"));
        var other = signals.NextCancellation(SignalKeys.Key("k2"));
        Assert.Equal(revoked, signals.NextCancellation(SignalKeys.Key("k1")));

        signals.Notify(SignalKeys.Key("k1"));

        await WaitCancelledAsync(revoked);
        Assert.False(other.IsCancellationRequested);
        Assert.False(signals.NextCancellation(SignalKeys.Key("k1")).IsCancellationRequested);
    }

    [Fact]
    public async Task NotifyAll_cancels_every_token()
    {
        var signals = new InProcessMeshSignals();
        var first = signals.NextCancellation(SignalKeys.Key("k1"));
        var second = signals.NextCancellation(SignalKeys.Key("k2"));

        signals.NotifyAll();

        await WaitCancelledAsync(first);
        await WaitCancelledAsync(second);
    }

    [Fact]
    public async Task Release_wakes_the_keys_waiters_and_lets_go_of_its_entries()
    {
        var signals = new InProcessMeshSignals();
        var key = SignalKeys.Key("ended");
        var token = signals.NextCancellation(key);
        var next = signals.Next(key);

        signals.Release(key);

        await WaitCancelledAsync(token);
        await next.WaitAsync(s_timeout, Ct);
        Assert.NotEqual(next, signals.Next(key));
    }

    // The cancellation runs off the notifier's thread.
    private static Task WaitCancelledAsync(CancellationToken token) =>
        Task.Delay(Timeout.Infinite, token).ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).WaitAsync(s_timeout, Ct);
}
