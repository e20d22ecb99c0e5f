using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using SessionMesh.Contracts;
using SessionMesh.Store;

namespace SessionMesh.Mesh;

/// <summary>
/// The mesh's rules, above the store: validation, authorisation against the calling key, state
/// transitions and the events they emit. Endpoints, the CLI's in-process uses and the MCP tools all
/// go through here, so each rule is written once.
/// </summary>
public sealed partial class MeshService(IMeshStore store, TimeProvider time, MeshOptions options)
{
    /// <summary>Wake-ups for streams and waiters after each commit.</summary>
    public MeshSignals Signals { get; } = new();

    public IMeshStore Store => store;

    public TimeProvider Time => time;

    public MeshOptions Options => options;

    /// <summary>The current time at the millisecond precision the stores keep, so a stored time reads back equal.</summary>
    private DateTimeOffset Now()
    {
        var now = time.GetUtcNow();
        return now.AddTicks(-(now.Ticks % TimeSpan.TicksPerMillisecond));
    }

    /// <summary>Commits, then wakes event watchers (when events were appended) and the given streams and waiters.</summary>
    private async Task CommitAsync(IMeshWriteTransaction tx, long lastRevision, CancellationToken cancellationToken, params IEnumerable<string> notify)
    {
        await tx.CommitAsync(cancellationToken);
        if (lastRevision > 0)
        {
            Signals.Notify(MeshSignals.RevisionKey);
        }
        foreach (var key in notify)
        {
            Signals.Notify(key);
        }
    }

    private static Task<long> AppendAsync<T>(IMeshWriteTransaction tx, string type, string cluster, DateTimeOffset at, string? agentId, string? sessionId, T data, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken) =>
        tx.AppendEventAsync(cluster, type, at, agentId, sessionId, JsonSerializer.SerializeToElement(data, typeInfo), cancellationToken);
}
