using BenchmarkDotNet.Attributes;
using SessionMesh.Mesh;

namespace SessionMesh.MicroBench;

/// <summary>
/// One wake-up of an open stream: it waits for its signal (a new command), its key's revocation, the end of the
/// request or its renewal timeout, and the signal comes. The baseline is the race streams ran before
/// <see cref="StreamWaiter"/>: a linked token source, a delay task and <c>WhenAny</c> per wait. Both take a fresh
/// signal each time, as a stream does after every notification.
/// </summary>
[MemoryDiagnoser]
public class StreamWaitBenchmark : IDisposable
{
    private static readonly TimeSpan s_renewal = TimeSpan.FromSeconds(15);

    private readonly CancellationTokenSource _request = new();
    private readonly CancellationTokenSource _revoked = new();
    private StreamWaiter _waiter = null!;

    [GlobalSetup]
    public void Setup() => _waiter = new StreamWaiter(TimeProvider.System, _request.Token);

    [GlobalCleanup]
    public void Dispose()
    {
        _waiter.Dispose();
        _request.Dispose();
        _revoked.Dispose();
        GC.SuppressFinalize(this);
    }

    [Benchmark(Baseline = true)]
    public async Task<bool> LinkedTokenDelayAndWhenAny()
    {
        var signal = new TaskCompletionSource();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_request.Token, _revoked.Token);
        var delay = Task.Delay(s_renewal, TimeProvider.System, timeout.Token);
        var first = Task.WhenAny(signal.Task, delay);
        signal.SetResult();
        var woken = await first == signal.Task;
        await timeout.CancelAsync();
        return woken;
    }

    [Benchmark]
    public async Task<bool> ReusedWaiter()
    {
        var signal = new TaskCompletionSource();
        _waiter.WakeOn(signal.Task);
        _waiter.WakeOn(_revoked.Token);
        var wait = _waiter.WaitAsync(s_renewal);
        signal.SetResult();
        return await wait;
    }
}
