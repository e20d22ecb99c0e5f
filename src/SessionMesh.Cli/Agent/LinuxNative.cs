using System.Runtime.InteropServices;

namespace SessionMesh.Cli.Agent;

/// <summary>The few libc calls the process-tree kill needs that .NET does not expose.</summary>
internal static partial class LinuxNative
{
    public const int SigKill = 9;
    public const int SigTerm = 15;
    private const int PrSetChildSubreaper = 36;
    private const int WNoHang = 1;

    /// <summary>
    /// Makes this process the reaper of its orphaned descendants: a grandchild whose parent exits (a daemon that
    /// double-forked, one that called setsid) is re-parented here instead of to init, so it stays findable.
    /// </summary>
    public static bool BecomeChildSubreaper() => OperatingSystem.IsLinux() && Prctl(PrSetChildSubreaper, 1, 0, 0, 0) == 0;

    /// <summary>Sends <paramref name="signal"/>; false when the process is already gone.</summary>
    public static bool Signal(int pid, int signal) => Kill(pid, signal) == 0;

    /// <summary>Reaps <paramref name="pid"/> if it is a dead child of this process (an adopted orphan).</summary>
    public static void Reap(int pid) => _ = WaitPid(pid, IntPtr.Zero, WNoHang);

    [LibraryImport("libc", EntryPoint = "prctl", SetLastError = true)]
    private static partial int Prctl(int option, ulong arg2, ulong arg3, ulong arg4, ulong arg5);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "waitpid", SetLastError = true)]
    private static partial int WaitPid(int pid, IntPtr status, int options);
}
