using System.Collections.Concurrent;
using SessionMesh.Model;

namespace SessionMesh.Mesh;

/// <summary>
/// Commands handed to an agent's stream whose "delivered" the store has not recorded yet. A stream writes its frame
/// first and records the delivery just after, in a write that joins the next group commit; until that commits, reads
/// see the command as delivered through <see cref="Overlay"/>, the sweep does not expire it, and an ack records the
/// delivery before itself, so the events stay in order. A crash in between leaves the command queued in the store:
/// it is handed out again after the restart (at least once), never lost.
/// </summary>
internal sealed class UnwrittenDeliveries
{
    private readonly ConcurrentDictionary<string, DateTimeOffset> _handedAt = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Task, byte> _writing = new();

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

    /// <summary>The delivery is in the store (or was given up): reads go back to the store's word.</summary>
    public void Written(string commandId) => _handedAt.TryRemove(commandId, out _);

    /// <summary>The command as readers should see it: delivered when a stream handed it out and the store does not know yet.</summary>
    public CommandRecord Overlay(CommandRecord command) =>
        command.Status == CommandStatus.Queued && HandedAt(command.CommandId) is { } at ? Delivered(command, at) : command;

    /// <summary>Keeps track of a write in flight, so a stop can wait for it.</summary>
    public void Track(Task write)
    {
        _writing.TryAdd(write, 0);
        write.ContinueWith(static (done, state) => ((ConcurrentDictionary<Task, byte>)state!).TryRemove(done, out _), _writing, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Waits for the writes in flight now.</summary>
    public Task DrainAsync() => Task.WhenAll(_writing.Keys);
}
