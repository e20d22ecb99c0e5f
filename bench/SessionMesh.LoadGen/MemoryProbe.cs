using System.Diagnostics;

namespace SessionMesh.LoadGen;

/// <summary>
/// The process's memory at one point, after a full blocking, compacting collection. The server and the
/// load generator share the process, so the figures are for both; the bench keeps its own state small
/// (agent ids, session ids) and says what it holds in each phase.
/// </summary>
internal sealed record MemorySnapshot(string Phase, long GcHeapBytes, long GcCommittedBytes, long WorkingSetBytes, long PrivateBytes)
{
    public static MemorySnapshot Take(string phase)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        var info = GC.GetGCMemoryInfo(GCKind.Any);
        using var process = Process.GetCurrentProcess();
        return new MemorySnapshot(phase, GC.GetTotalMemory(forceFullCollection: false), info.TotalCommittedBytes, process.WorkingSet64, process.PrivateMemorySize64);
    }
}
