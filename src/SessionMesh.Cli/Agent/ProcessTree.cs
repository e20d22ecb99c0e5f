using System.Globalization;

namespace SessionMesh.Cli.Agent;

/// <summary>
/// A child and every process descended from it, found through <c>/proc</c>: by parent chain (which, with this
/// process a child subreaper, still reaches a grandchild whose parent died), and by the child's session and process
/// group (the child is started in its own). A grandchild that called setsid leaves the session but not the chain.
/// </summary>
internal static class ProcessTree
{
    private const string Proc = "/proc";

    /// <summary>The live (not zombie) processes of the tree rooted at <paramref name="root"/>, the root included when alive.</summary>
    public static List<int> Members(int root)
    {
        var self = Environment.ProcessId;
        var table = Snapshot();
        var members = new List<int>();
        foreach (var (pid, entry) in table)
        {
            if (entry.State == 'Z' || pid == self)
            {
                continue;
            }
            if (pid == root || entry.Session == root || entry.Group == root || DescendsFrom(pid, table, root, self))
            {
                members.Add(pid);
            }
        }
        return members;
    }

    /// <summary>Reaps this process's dead adopted orphans (the root itself is .NET's to reap).</summary>
    public static void ReapOrphans(int root)
    {
        var self = Environment.ProcessId;
        foreach (var (pid, entry) in Snapshot())
        {
            if (entry.State == 'Z' && entry.Parent == self && pid != root)
            {
                LinuxNative.Reap(pid);
            }
        }
    }

    /// <summary>True when <paramref name="pid"/>'s parent chain reaches <paramref name="root"/>, or this process (an orphan it adopted).</summary>
    private static bool DescendsFrom(int pid, Dictionary<int, ProcEntry> table, int root, int self)
    {
        var current = pid;
        for (var hops = 0; hops < 4096 && table.TryGetValue(current, out var entry); hops++)
        {
            if (entry.Parent == root || entry.Parent == self)
            {
                return true;
            }
            if (entry.Parent <= 1)
            {
                return false;
            }
            current = entry.Parent;
        }
        return false;
    }

    private static Dictionary<int, ProcEntry> Snapshot()
    {
        var table = new Dictionary<int, ProcEntry>();
        foreach (var directory in Directory.EnumerateDirectories(Proc))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }
            if (Read(pid) is { } entry)
            {
                table[pid] = entry;
            }
        }
        return table;
    }

    /// <summary>Parses <c>/proc/PID/stat</c>: "pid (comm) state ppid pgrp session ..."; comm may hold spaces and parentheses.</summary>
    internal static ProcEntry? Read(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"{Proc}/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null; // gone while we looked
        }
        var close = stat.LastIndexOf(')');
        if (close < 0)
        {
            return null;
        }
        var fields = stat[(close + 2)..].Split(' ');
        if (fields.Length < 4)
        {
            return null;
        }
        return new ProcEntry(
            fields[0][0],
            int.Parse(fields[1], CultureInfo.InvariantCulture),
            int.Parse(fields[2], CultureInfo.InvariantCulture),
            int.Parse(fields[3], CultureInfo.InvariantCulture));
    }

    internal sealed record ProcEntry(char State, int Parent, int Group, int Session);
}
