namespace SessionMesh.LoadGen;

/// <summary>
/// The server process's memory at one point of the stream probe, read from outside (/proc/PID/status): the resident
/// set (VmRSS) and its peak so far (VmHWM). The server runs its own GC when it likes, so these are what the operating
/// system sees, not the live heap: memory the runtime keeps after a peak stays in the figure.
/// </summary>
internal sealed record MemorySnapshot(string Phase, long ResidentBytes, long PeakResidentBytes)
{
    public static MemorySnapshot Take(string phase, ChildProcess server) => new(phase, server.ResidentBytes(), server.PeakResidentBytes());
}
