namespace SessionMesh.Mesh;

/// <summary>
/// Wake-ups after commits: an agent's stream wakes when a command for it is queued or its session ends; event
/// watchers wake on a new revision; a waiter on one command wakes when it changes; a stream wakes when its key is
/// revoked. A waiter takes the signal before it reads the store, so a commit between the read and the wait is never
/// missed. The in-process implementation serves one server; a store shared by several replicas supplies one that
/// crosses processes (PostgreSQL's LISTEN/NOTIFY).
/// </summary>
public interface IMeshSignals
{
    /// <summary>A task that completes at the next <see cref="Notify"/> of <paramref name="key"/>.</summary>
    Task Next(string key);

    /// <summary>
    /// A token cancelled at the next <see cref="Notify"/> of <paramref name="key"/>: for a rare wake-up (a key's
    /// revocation) that many long waits share. A wait that ends for another reason drops its registration on the token
    /// at constant cost, where a continuation on a task shared by thousands of waiters is searched for in a list.
    /// </summary>
    CancellationToken NextCancellation(string key);

    /// <summary>Wakes everything waiting on <paramref name="key"/>.</summary>
    void Notify(string key);

    /// <summary>
    /// Wakes this server's waiters on <paramref name="key"/> and lets go of what it holds for the key, without telling
    /// other replicas: for a key nothing should wait on any more (a session key that ended a while ago), or for a change
    /// this server learned of later than the other replicas' notification of it (a lease another replica ended).
    /// </summary>
    void Release(string key);

    /// <summary>
    /// Marks a stream as attached to <paramref name="key"/> until the returned handle is disposed, and calls
    /// <paramref name="wake"/> (when given) at every <see cref="Notify"/> and <see cref="Release"/> of the key meanwhile:
    /// a long-lived stream's wake-up that allocates nothing, where <see cref="Next"/> makes a task per wake-up that lives
    /// until the next one. <paramref name="wake"/> runs on the notifier's thread, so it must be quick and never block.
    /// </summary>
    IDisposable Listen(string key, Action? wake = null);

    /// <summary>
    /// True while at least one stream is attached to <paramref name="key"/>: on this server, or as far as it has heard, on
    /// another replica sharing its store.
    /// </summary>
    bool HasListener(string key);
}

/// <summary>The names signals are raised under.</summary>
public static class SignalKeys
{
    /// <summary>An agent's command stream: a command was queued for it, or its session changed.</summary>
    public static string Agent(string cluster, string agentId) => $"agent\n{cluster}\n{agentId}";

    /// <summary>One command changed state.</summary>
    public static string Command(string commandId) => "command\n" + commandId;

    /// <summary>A key was revoked (or rotated away): streams opened with it end.</summary>
    public static string Key(string keyId) => "key\n" + keyId;

    /// <summary>New events were appended, in any cluster (what a watcher of every cluster waits for).</summary>
    public const string Revision = "revision";

    /// <summary>
    /// A session was opened or ended: replicas that share the store re-read its lease (<see cref="IReplicaSignals"/>).
    /// Nothing waits on it in one server.
    /// </summary>
    public static string Lease(string sessionId) => "lease\n" + sessionId;

    /// <summary>New events were appended in <paramref name="cluster"/>: a watcher of one cluster wakes for its own only.</summary>
    public static string RevisionOf(string cluster) => "revision\n" + cluster;

    /// <summary>A lock was released (or its lock-delay set): who waits to take it tries again.</summary>
    public static string Lock(string cluster, string name) => $"lock\n{cluster}\n{name}";
}
