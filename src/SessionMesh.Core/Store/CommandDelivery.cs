namespace SessionMesh.Store;

/// <summary>What <see cref="IMeshWriteTransaction.RecordDeliveryAsync"/> found when it recorded a hand-out.</summary>
public enum CommandDelivery
{
    /// <summary>The command was queued: it is delivered now (its <c>command.delivered</c> event is the caller's to append).</summary>
    First,

    /// <summary>The command was delivered already: the hand-out is counted.</summary>
    Again,

    /// <summary>The command is gone or completed: nothing changed.</summary>
    NotPending,
}
