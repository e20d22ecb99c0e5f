using System.Collections.Concurrent;
using SessionMesh.Model;

namespace SessionMesh.Mesh;

/// <summary>
/// Commands handed to an agent's stream whose "delivered" the store has not recorded yet. A stream writes its frame
/// first and records the delivery just after, in a write that joins the next group commit; until that commits, reads
/// see the command as delivered through <see cref="Overlay"/>, the sweep does not expire it, and an ack records the
/// delivery before itself, so the events stay in order. A crash in between leaves the command queued in the store:
/// it is handed out again after the restart (at least once), never lost. Once written, a delivery is remembered a while
/// longer (<see cref="WasHandedOut"/>), so a steer's answer can say delivered without reading the store even when the
/// write landed first.
/// </summary>
internal sealed class UnwrittenDeliveries
{
    /// <summary>Written deliveries remembered per generation; two generations are kept.</summary>
    internal const int RecentGeneration = 4096;

    private readonly ConcurrentDictionary<string, DateTimeOffset> _handedAt = new(StringComparer.Ordinal);
    private readonly Lock _recentGate = new();
    private Dictionary<string, DateTimeOffset> _recent = new(StringComparer.Ordinal);
    private Dictionary<string, DateTimeOffset> _older = new(StringComparer.Ordinal);

    /// <summary>The command as a delivery leaves it: delivered (since its first delivery), counted, and no longer expiring unless it is a kill.</summary>
    public static CommandRecord Delivered(CommandRecord command, DateTimeOffset at) => command with
    {
        Status = CommandStatus.Delivered,
        DeliveredAt = command.DeliveredAt ?? at,
        DeliveryCount = command.DeliveryCount + 1,
        // Steers and messages expire only while undelivered; a kill keeps its grace deadline.
        DeadlineAt = command.Kind == CommandKind.Kill ? command.DeadlineAt : null,
    };

    /// <summary>Notes commands handed out at <paramref name="at"/> (the first hand-out's time is kept).</summary>
    public void Handed(IEnumerable<CommandRecord> commands, DateTimeOffset at)
    {
        foreach (var command in commands)
        {
            _handedAt.TryAdd(command.CommandId, at);
        }
    }

    /// <summary>When the command was handed out, if its delivery is not written yet.</summary>
    public DateTimeOffset? HandedAt(string commandId) => _handedAt.TryGetValue(commandId, out var at) ? at : null;

    /// <summary>
    /// When the command was handed out by a stream of this server, written or not: for the answer of a steer that has
    /// just been queued. Null when this server has not handed it out lately (it may have, long ago: read the store).
    /// </summary>
    public DateTimeOffset? WasHandedOut(string commandId)
    {
        if (HandedAt(commandId) is { } at)
        {
            return at;
        }
        lock (_recentGate)
        {
            return _recent.TryGetValue(commandId, out var recent) || _older.TryGetValue(commandId, out recent) ? recent : null;
        }
    }

    /// <summary>
    /// The delivery is in the store (<paramref name="recorded"/>) or was given up: reads go back to the store's word.
    /// A recorded one is remembered for <see cref="WasHandedOut"/>.
    /// </summary>
    public void Written(string commandId, bool recorded)
    {
        if (!_handedAt.TryRemove(commandId, out var at) || !recorded)
        {
            return;
        }
        lock (_recentGate)
        {
            if (_recent.Count >= RecentGeneration)
            {
                (_older, _recent) = (_recent, _older);
                _recent.Clear();
            }
            _recent[commandId] = at;
        }
    }

    /// <summary>The command as readers should see it: delivered when a stream handed it out and the store does not know yet.</summary>
    public CommandRecord Overlay(CommandRecord command) =>
        command.Status == CommandStatus.Queued && HandedAt(command.CommandId) is { } at ? Delivered(command, at) : command;
}
