namespace SessionMesh.Cli.Agent;

/// <summary>
/// Stops a process tree: SIGTERM to every member, SIGKILL to whatever is left when the grace period ends (at once for
/// a grace of zero), until no member remains. Members are looked up again on every round, so a process forked during
/// the grace period is signalled too. The rounds poll <c>/proc</c>: nothing notifies a process of the death of a
/// process that is not its child.
/// </summary>
internal static class TreeKill
{
    private static readonly TimeSpan s_poll = TimeSpan.FromMilliseconds(25);
    private static readonly TimeSpan s_killRounds = TimeSpan.FromSeconds(10);

    /// <summary>Returns once no process of the tree is alive; true when SIGKILL was needed.</summary>
    public static async Task<bool> KillAsync(int root, TimeSpan grace, TimeProvider time)
    {
        var deadline = time.GetUtcNow() + grace;
        var terminated = new HashSet<int>();
        while (grace > TimeSpan.Zero)
        {
            var members = ProcessTree.Members(root);
            if (members.Count == 0)
            {
                return false;
            }
            foreach (var pid in members.Where(terminated.Add))
            {
                LinuxNative.Signal(pid, LinuxNative.SigTerm);
            }
            ProcessTree.ReapOrphans(root);
            if (time.GetUtcNow() >= deadline)
            {
                break;
            }
            await Task.Delay(s_poll, time);
        }
        var giveUp = time.GetUtcNow() + s_killRounds;
        var killed = false;
        while (true)
        {
            var members = ProcessTree.Members(root);
            if (members.Count == 0 || time.GetUtcNow() > giveUp)
            {
                return killed;
            }
            foreach (var pid in members)
            {
                LinuxNative.Signal(pid, LinuxNative.SigKill);
            }
            killed = true;
            ProcessTree.ReapOrphans(root);
            await Task.Delay(s_poll, time);
        }
    }
}
