namespace SessionMesh.Server.Sandbox;

/// <summary>
/// The fault rates in force, changeable at run time, and the one source of randomness every fault is
/// drawn from: seeded with <c>Sandbox:Seed</c> so a test sees the same faults every run.
/// </summary>
internal sealed class FaultInjector(FaultSettings initial, int? seed)
{
    private readonly Random _random = seed is { } value ? new Random(value) : new Random();
    private readonly Lock _lock = new();
    private FaultSettings _current = initial;

    /// <summary>The rates in force; a change applies to the next request, and to the next frame of open streams.</summary>
    public FaultSettings Current
    {
        get => Volatile.Read(ref _current);
        set => Volatile.Write(ref _current, value ?? throw new ArgumentNullException(nameof(value)));
    }

    /// <summary>True with probability <paramref name="rate"/>; 0 and 1 decide without a draw.</summary>
    public bool Roll(double rate)
    {
        if (rate <= 0)
        {
            return false;
        }
        if (rate >= 1)
        {
            return true;
        }
        lock (_lock)
        {
            return _random.NextDouble() < rate;
        }
    }

    /// <summary>A number from 0 to <paramref name="count"/> - 1.</summary>
    public int Pick(int count)
    {
        lock (_lock)
        {
            return _random.Next(count);
        }
    }

    /// <summary>A delay drawn uniformly from <paramref name="latency"/>.</summary>
    public TimeSpan Delay(LatencyRange latency)
    {
        if (latency.Max <= latency.Min)
        {
            return latency.Min;
        }
        double share;
        lock (_lock)
        {
            share = _random.NextDouble();
        }
        return latency.Min + ((latency.Max - latency.Min) * share);
    }
}
