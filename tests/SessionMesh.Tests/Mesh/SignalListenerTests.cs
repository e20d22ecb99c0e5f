using SessionMesh.Mesh;

namespace SessionMesh.Tests.Mesh;

/// <summary>
/// A stream attached to a key (<see cref="IMeshSignals.Listen"/>) counts as listening until it detaches, and its
/// wake-up is called at every notification of that key (its own, a release, a wake-up of everything) and of no other.
/// </summary>
public sealed class SignalListenerTests
{
    private static readonly string s_key = SignalKeys.Agent("c1", "a1");

    [Fact]
    public void A_listener_is_woken_by_its_keys_notifications_until_it_detaches()
    {
        var signals = new InProcessMeshSignals();
        var wakes = 0;
        var listening = signals.Listen(s_key, () => wakes++);
        Assert.True(signals.HasListener(s_key));

        signals.Notify(s_key);
        signals.Notify(SignalKeys.Agent("c1", "a2"));
        signals.Notify(SignalKeys.Agent("c2", "a1"));
        Assert.Equal(1, wakes);
        signals.Release(s_key);
        signals.NotifyAll();
        Assert.Equal(3, wakes);

        listening.Dispose();
        listening.Dispose();
        signals.Notify(s_key);
        Assert.Equal(3, wakes);
        Assert.False(signals.HasListener(s_key));
    }

    [Fact]
    public void Two_listeners_of_one_key_are_woken_apart_and_leave_apart()
    {
        var signals = new InProcessMeshSignals();
        var (first, second) = (0, 0);
        var one = signals.Listen(s_key, () => first++);
        using var two = signals.Listen(s_key, () => second++);
        using var silent = signals.Listen(s_key);

        signals.Notify(s_key);
        one.Dispose();
        signals.Notify(s_key);

        Assert.Equal((1, 2), (first, second));
        Assert.True(signals.HasListener(s_key));
    }

    [Fact]
    public async Task Listeners_attaching_and_detaching_at_once_leave_none_behind()
    {
        var signals = new InProcessMeshSignals();
        await Parallel.ForEachAsync(Enumerable.Range(0, 20_000), TestContext.Current.CancellationToken, (n, _) =>
        {
            using var listening = signals.Listen(s_key, () => { });
            Assert.True(signals.HasListener(s_key));
            if (n % 7 == 0)
            {
                signals.Notify(s_key);
            }
            return ValueTask.CompletedTask;
        });

        Assert.False(signals.HasListener(s_key));
        var woken = false;
        using var last = signals.Listen(s_key, () => woken = true);
        signals.Notify(s_key);
        Assert.True(woken);
    }
}
