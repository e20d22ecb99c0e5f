using System.Diagnostics;

namespace SessionMesh.LoadGen;

/// <summary>
/// An open-loop run: call i is due at start + i / rate, whatever the earlier calls are doing, so a slow answer does not
/// slow the offered load (closed loops hide that: coordinated omission). The sender wakes on a timer (about 1 ms), so a
/// call leaves up to a tick late; callers time from the call's real start and the result reports the worst lag. Bounded: a fixed count, at most <c>maxInFlight</c> calls open at once
/// (a sender that hits it falls behind the schedule, which the result reports), and the caller's token.
/// </summary>
internal static class OpenLoop
{
    public delegate Task<int> Call(long index, CancellationToken cancellationToken);

    /// <param name="Sent">Calls made.</param>
    /// <param name="Errors">Failed calls by status (see <see cref="ClosedLoop"/>'s negative codes).</param>
    /// <param name="MaxBehind">How far the sender fell behind the schedule at worst.</param>
    public sealed record Result(long Sent, IReadOnlyDictionary<int, long> Errors, TimeSpan Elapsed, TimeSpan MaxBehind)
    {
        public long Failed => Errors.Values.Sum();
    }

    public static async Task<Result> RunAsync(int rate, long count, int maxInFlight, Call call, CancellationToken cancellationToken)
    {
        using var slots = new SemaphoreSlim(maxInFlight, maxInFlight);
        var errors = new Dictionary<int, long>();
        var calls = new List<Task>((int)Math.Min(count, 1_000_000));
        var start = Stopwatch.GetTimestamp();
        var maxBehind = TimeSpan.Zero;
        for (long i = 0; i < count; i++)
        {
            var due = start + (long)(i * (double)Stopwatch.Frequency / rate);
            var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : wait, cancellationToken);
            }
            await slots.WaitAsync(cancellationToken);
            var behind = Stopwatch.GetElapsedTime(due);
            if (behind > maxBehind)
            {
                maxBehind = behind;
            }
            calls.Add(OneAsync(i));
        }
        await Task.WhenAll(calls);
        return new Result(count, errors, Stopwatch.GetElapsedTime(start), maxBehind);

        async Task OneAsync(long index)
        {
            int status;
            try
            {
                status = await call(index, cancellationToken);
            }
            catch (HttpRequestException)
            {
                status = ClosedLoop.ConnectionError;
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                status = ClosedLoop.Timeout;
            }
            finally
            {
                slots.Release();
            }
            if (status is < 200 or >= 300)
            {
                lock (errors)
                {
                    errors[status] = errors.GetValueOrDefault(status) + 1;
                }
            }
        }
    }
}
