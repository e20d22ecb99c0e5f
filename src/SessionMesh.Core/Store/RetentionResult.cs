namespace SessionMesh.Store;

/// <summary>What one <see cref="IMeshStore.ApplyRetentionAsync"/> removed, and the store's size on disk before and after.</summary>
/// <param name="ThroughRevision">Events up to this revision are gone (0 when none was deleted).</param>
public sealed record RetentionResult(int EventsDeleted, long ThroughRevision, int CommandsDeleted, long BytesBefore, long BytesAfter);
