using System.Text.Json;
using Npgsql;
using SessionMesh.Model;
using static SessionMesh.Store.Postgres.PostgresRows;

namespace SessionMesh.Store.Postgres;

/// <summary>
/// The event log. A revision is the next value of the <c>mesh_counters</c> row <c>revision</c>, taken in the appending
/// transaction; every write holds the store's write lock (<see cref="PostgresMeshStore.WriteLockKey"/>) from its
/// first statement to its commit, across replicas, so revisions become visible in the order they were given: a
/// watcher reading "after revision N" never passes over a lower revision that commits later (what a plain sequence
/// would allow). A rolled-back write gives its numbers back, as SQLite's AUTOINCREMENT does.
/// </summary>
public sealed partial class PostgresMeshStore
{
    private const string SelectEventsPage = $"""
        SELECT {EventColumns} FROM events
        WHERE events.revision > @after
        ORDER BY events.revision
        LIMIT @limit
        """;

    private const string SelectClusterEventsPage = $"""
        SELECT {EventColumns} FROM events
        WHERE events.cluster = @cluster AND events.revision > @after
        ORDER BY events.revision
        LIMIT @limit
        """;

    private const string SelectAuditPage = $"""
        SELECT {AuditColumns} FROM audit_log
        WHERE audit_log.id < @before
        ORDER BY audit_log.id DESC
        LIMIT @limit
        """;

    private const string SelectClusterAuditPage = $"""
        SELECT {AuditColumns} FROM audit_log
        WHERE audit_log.cluster = @cluster AND audit_log.id < @before
        ORDER BY audit_log.id DESC
        LIMIT @limit
        """;

    private const string InsertEventSql = """
        WITH next AS (UPDATE mesh_counters SET value = value + 1 WHERE name = 'revision' RETURNING value)
        INSERT INTO events (revision, cluster, type, at, agent_id, session_id, data, size)
        SELECT next.value, @cluster, @type, @at, @agent_id, @session_id, @data, @size FROM next
        RETURNING revision
        """;

    /// <summary>What an event row costs beyond its data, roughly, for retention by size.</summary>
    private const int EventRowOverhead = 100;

    private const string SelectOldestRevision = "SELECT MIN(revision) FROM events";

    // The counter keeps the highest revision ever given, even once its event is compacted away.
    private const string SelectLatestRevision = "SELECT value FROM mesh_counters WHERE name = 'revision'";

    private const string CompactEventsSql = "DELETE FROM events WHERE revision <= @through";

    private const string InsertAuditSql = """
        INSERT INTO audit_log (at, key_id, cluster, method, path, status, code)
        VALUES (@at, @key_id, @cluster, @method, @path, @status, @code)
        """;

    /// <inheritdoc />
    public async Task<IReadOnlyList<AuditRecord>> ListAuditAsync(string? cluster, long? beforeId, int limit, CancellationToken cancellationToken) =>
        await ReadAsync(async db =>
        {
            await using var command = new NpgsqlCommand(cluster is null ? SelectAuditPage : SelectClusterAuditPage, db)
                .Bind("@before", beforeId ?? long.MaxValue).Bind("@limit", Math.Max(0, limit));
            if (cluster is not null)
            {
                command.Bind("@cluster", cluster);
            }
            return await command.ListAsync(ReadAudit, cancellationToken);
        }, cancellationToken);

    /// <inheritdoc />
    public async Task<IReadOnlyList<MeshEventRecord>> ListEventsAsync(string? cluster, long afterRevision, int limit, CancellationToken cancellationToken) =>
        await ReadAsync(async db =>
        {
            await using var command = new NpgsqlCommand(cluster is null ? SelectEventsPage : SelectClusterEventsPage, db)
                .Bind("@after", afterRevision).Bind("@limit", Math.Max(0, limit));
            if (cluster is not null)
            {
                command.Bind("@cluster", cluster);
            }
            return await command.ListAsync(ReadEvent, cancellationToken);
        }, cancellationToken);

    /// <inheritdoc />
    public async Task<long?> GetOldestRevisionAsync(CancellationToken cancellationToken) =>
        await ReadAsync(async db =>
        {
            await using var command = new NpgsqlCommand(SelectOldestRevision, db);
            return await command.ScalarNullableInt64Async(cancellationToken);
        }, cancellationToken);

    /// <inheritdoc />
    public async Task<long> GetLatestRevisionAsync(CancellationToken cancellationToken) =>
        await ReadAsync(async db =>
        {
            await using var command = new NpgsqlCommand(SelectLatestRevision, db);
            return await command.ScalarInt64Async(cancellationToken);
        }, cancellationToken);

    internal static async Task<int> CompactEventsAsync(NpgsqlConnection db, long throughRevision, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(CompactEventsSql, db).Bind("@through", throughRevision);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Appends an event under the next revision.</summary>
    internal static async Task<long> InsertEventAsync(
        NpgsqlConnection db, string cluster, string type, DateTimeOffset at, string? agentId, string? sessionId, JsonElement? data, CancellationToken cancellationToken)
    {
        var json = PostgresJson.WriteElement(data);
        var size = EventRowOverhead + (json is null ? 0 : System.Text.Encoding.UTF8.GetByteCount(json));
        await using var command = new NpgsqlCommand(InsertEventSql, db)
            .Bind("@cluster", cluster).Bind("@type", type).Bind("@at", at).Bind("@agent_id", agentId)
            .Bind("@session_id", sessionId).Bind("@data", json).Bind("@size", (long)size);
        return await command.ScalarInt64Async(cancellationToken);
    }

    /// <summary>Appends an audit entry; the store assigns its id, so <see cref="AuditRecord.Id"/> is ignored.</summary>
    internal static async Task InsertAuditAsync(NpgsqlConnection db, AuditRecord entry, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(InsertAuditSql, db)
            .Bind("@at", entry.At).Bind("@key_id", entry.KeyId).Bind("@cluster", entry.Cluster).Bind("@method", entry.Method)
            .Bind("@path", entry.Path).Bind("@status", entry.Status).Bind("@code", entry.Code);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
