using System.Collections.Concurrent;
using SessionMesh.Model;

namespace SessionMesh.Mesh;

/// <summary>
/// Commands this server committed a moment ago, for the agents' streams open on it. A stream that has read all its
/// pending commands from the store takes the ones queued after that from its inbox here, so a steer reaches its stream
/// without a store read. Each stream opens its inbox before its first read of the store, so a command committed in
/// between is in one or the other (or both: the inbox drops what the stream's cursor has passed). The store stays the
/// authority: an inbox that cannot show the very next commands after the cursor, consecutive — posts may arrive out of
/// order, a command may have been completed elsewhere, the inbox may have overflowed — sends the stream back to it.
/// With replicas sharing a store (<see cref="IReplicaSignals"/>), other replicas' commands never pass through here, so
/// every inbox is closed and streams always read the store.
/// </summary>
internal sealed class FreshCommands(bool enabled)
{
    /// <summary>Past this many unread commands an inbox gives up and its stream reads the store.</summary>
    internal const int InboxCapacity = 256;

    private readonly ConcurrentDictionary<(string Cluster, string AgentId), List<Inbox>> _inboxes = new();

    /// <summary>Opens an inbox for one stream of an agent, until it is disposed.</summary>
    public Inbox Open(string cluster, string agentId)
    {
        if (!enabled)
        {
            return Inbox.Closed;
        }
        var inbox = new Inbox(this, (cluster, agentId));
        while (true)
        {
            var list = _inboxes.GetOrAdd(inbox.Agent, static _ => []);
            lock (list)
            {
                // A list emptied and dropped by Close meanwhile is never used again: take the registered one.
                if (_inboxes.TryGetValue(inbox.Agent, out var registered) && ReferenceEquals(registered, list))
                {
                    list.Add(inbox);
                    return inbox;
                }
            }
        }
    }

    /// <summary>Hands just-committed commands to the inboxes of their agents' streams.</summary>
    public void Post(IEnumerable<CommandRecord> committed)
    {
        foreach (var command in committed)
        {
            if (_inboxes.TryGetValue((command.Cluster, command.AgentId), out var list))
            {
                lock (list)
                {
                    foreach (var inbox in list)
                    {
                        inbox.Add(command);
                    }
                }
            }
        }
    }

    private void Close(Inbox inbox)
    {
        if (!_inboxes.TryGetValue(inbox.Agent, out var list))
        {
            return;
        }
        lock (list)
        {
            list.Remove(inbox);
            if (list.Count == 0)
            {
                _inboxes.TryRemove(new KeyValuePair<(string, string), List<Inbox>>(inbox.Agent, list));
            }
        }
    }

    /// <summary>One stream's inbox: the commands committed for its agent since it opened, not yet taken.</summary>
    internal sealed class Inbox : IDisposable
    {
        /// <summary>The inbox of a server whose streams always read the store.</summary>
        public static readonly Inbox Closed = new(null, default);

        private readonly FreshCommands? _owner;
        private readonly List<CommandRecord> _commands = [];
        private bool _overflowed;

        internal Inbox(FreshCommands? owner, (string Cluster, string AgentId) agent)
        {
            _owner = owner;
            Agent = agent;
        }

        internal (string Cluster, string AgentId) Agent { get; }

        internal void Add(CommandRecord command)
        {
            lock (_commands)
            {
                if (_commands.Count >= InboxCapacity)
                {
                    _overflowed = true;
                    _commands.Clear();
                    return;
                }
                _commands.Add(command);
            }
        }

        /// <summary>
        /// Up to <paramref name="limit"/> commands following <paramref name="after"/> with no gap, taken out of the
        /// inbox: empty when nothing new came; null when the inbox cannot vouch for what follows the cursor, and the
        /// store must be read instead.
        /// </summary>
        public IReadOnlyList<CommandRecord>? TakeAfter(long after, int limit)
        {
            if (_owner is null)
            {
                return null;
            }
            lock (_commands)
            {
                _commands.RemoveAll(c => c.Sequence <= after);
                if (_overflowed)
                {
                    _overflowed = false;
                    _commands.Clear();
                    return null;
                }
                if (_commands.Count == 0)
                {
                    return [];
                }
                _commands.Sort(static (a, b) => a.Sequence.CompareTo(b.Sequence));
                var taken = 0;
                while (taken < _commands.Count && taken < limit && _commands[taken].Sequence == after + taken + 1)
                {
                    taken++;
                }
                if (taken == 0)
                {
                    return null;
                }
                var fresh = _commands.GetRange(0, taken);
                _commands.RemoveRange(0, taken);
                return fresh;
            }
        }

        public void Dispose() => _owner?.Close(this);
    }
}
