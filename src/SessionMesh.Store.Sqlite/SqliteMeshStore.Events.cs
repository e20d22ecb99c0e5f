using System.Text.Json;
using SessionMesh.Model;
using static SessionMesh.Store.Sqlite.SqliteRows;

namespace SessionMesh.Store.Sqlite;

public sealed partial class SqliteMeshStore
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
        INSERT INTO events (cluster, type, at, agent_id, session_id, data)
        VALUES (@cluster, @type, @at, @agent_id, @session_id, @data)
        RETURNING revision
        """;

    private const string SelectOldestRevision = "SELECT MIN(revision) FROM events";

    // AUTOINCREMENT keeps the highest revision ever assigned in sqlite_sequence, even once its event
    // is compacted away; the MAX over events is a guard that costs one index look-up.
    private const string SelectLatestRevision = """
        SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0),
                   COALESCE((SELECT MAX(revision) FROM events), 0))
        """;

    private const string CompactEventsSql = "DELETE FROM events WHERE revision <= @through";

    private const string InsertAuditSql = """
        INSERT INTO audit_log (at, key_id, cluster, method, path, status, code)
        VALUES (@at, @key_id, @cluster, @method, @path, @status, @code)
        """;

    /// <inheritdoc />
    public async Task<IReadOnlyList<AuditRecord>> ListAuditAsync(string? cluster, long? beforeId, int limit, CancellationToken cancellationToken) =>
        await ReadAsync(async db =>
        {
            await using var command = db.Command(cluster is null ? SelectAuditPage : SelectClusterAuditPage)
                .Bind("@cluster", cluster).Bind("@before", beforeId ?? long.MaxValue).Bind("@limit", Math.Max(0, limit));
            return await command.ListAsync(ReadAudit, cancellationToken);
        }, cancellationToken);

    /// <inheritdoc />
    public async Task<IReadOnlyList<MeshEventRecord>> ListEventsAsync(string? cluster, long afterRevision, int limit, CancellationToken cancellationToken) =>
        await ReadAsync(async db =>
        {
            await using var command = db.Command(cluster is null ? SelectEventsPage : SelectClusterEventsPage)
                .Bind("@cluster", cluster).Bind("@after", afterRevision).Bind("@limit", Math.Max(0, limit));
            return await command.ListAsync(ReadEvent, cancellationToken);
        }, cancellationToken);

    /// <inheritdoc />
    public async Task<long?> GetOldestRevisionAsync(CancellationToken cancellationToken) =>
        await ReadAsync(async db =>
        {
            await using var command = db.Command(SelectOldestRevision);
            return await command.ScalarNullableInt64Async(cancellationToken);
        }, cancellationToken);

    /// <inheritdoc />
    public async Task<long> GetLatestRevisionAsync(CancellationToken cancellationToken) =>
        await ReadAsync(async db =>
        {
            await using var command = db.Command(SelectLatestRevision);
            return await command.ScalarInt64Async(cancellationToken);
        }, cancellationToken);

    internal static async Task<int> CompactEventsAsync(SqliteDb db, long throughRevision, CancellationToken cancellationToken)
    {
        await using var command = db.Command(CompactEventsSql).Bind("@through", throughRevision);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    internal static async Task<long> InsertEventAsync(
        SqliteDb db, string cluster, string type, DateTimeOffset at, string? agentId, string? sessionId, JsonElement? data, CancellationToken cancellationToken)
    {
        await using var command = db.Command(InsertEventSql)
            .Bind("@cluster", cluster).Bind("@type", type).Bind("@at", at).Bind("@agent_id", agentId)
            .Bind("@session_id", sessionId).Bind("@data", SqliteJson.WriteElement(data));
        return await command.ScalarInt64Async(cancellationToken);
    }

    /// <summary>Appends an audit entry; the store assigns its id, so <see cref="AuditRecord.Id"/> is ignored.</summary>
    internal static async Task InsertAuditAsync(SqliteDb db, AuditRecord entry, CancellationToken cancellationToken)
    {
        await using var command = db.Command(InsertAuditSql)
            .Bind("@at", entry.At).Bind("@key_id", entry.KeyId).Bind("@cluster", entry.Cluster).Bind("@method", entry.Method)
            .Bind("@path", entry.Path).Bind("@status", entry.Status).Bind("@code", entry.Code);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
