using System.Globalization;

namespace SessionMesh.Tests.Agent;

/// <summary>What /proc says about processes: whether one still runs (a zombie does not), and pids a child script recorded.</summary>
public static class ProcTable
{
    /// <summary>True when <paramref name="pid"/> exists and is not a zombie.</summary>
    public static bool IsRunning(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
            var state = stat[(stat.LastIndexOf(')') + 2)..][0];
            return state is not ('Z' or 'X');
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>The pids written one per line to <paramref name="file"/>.</summary>
    public static List<int> ReadPids(string file) =>
        File.ReadAllLines(file).Where(l => l.Trim().Length > 0).Select(l => int.Parse(l.Trim(), CultureInfo.InvariantCulture)).ToList();

    /// <summary>The pids of <paramref name="pids"/> still running.</summary>
    public static List<int> Survivors(IEnumerable<int> pids) => pids.Where(IsRunning).ToList();
}
