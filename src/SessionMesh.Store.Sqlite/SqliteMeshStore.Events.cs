using System.Runtime.InteropServices;
using System.Text.Json;
using SessionMesh.Model;
using static SessionMesh.Store.Sqlite.SqliteRows;

namespace SessionMesh.Store.Sqlite;

public sealed partial class SqliteMeshStore
{
    // The command columns are read only for the events whose fields were lifted into the command (CommandEventData).
    private const string EventWithCommandColumns = $"""
        {EventColumns}, events.lifted, commands.payload, commands.result, commands.direction, commands.text
        FROM events LEFT JOIN commands ON events.lifted <> 0 AND commands.command_id = events.command_id
        """;

    private const string SelectEventsPage = $"""
        SELECT {EventWithCommandColumns}
        WHERE events.revision > @after
        ORDER BY events.revision
        LIMIT @limit
        """;

    private const string SelectClusterEventsPage = $"""
        SELECT {EventWithCommandColumns}
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
        INSERT INTO events (cluster, type, at, agent_id, session_id, data, size, command_id, lifted)
        VALUES (@cluster, @type, @at, @agent_id, @session_id, @data, @size, @command_id, @lifted)
        RETURNING revision
        """;

    private const string SelectCommandExists = "SELECT COUNT(*) FROM commands WHERE command_id = @command_id";

    /// <summary>What an event row costs beyond its data, roughly, for retention by size.</summary>
    private const int EventRowOverhead = 100;

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

    /// <summary>
    /// Appends an event. A command event's payload, result, direction and text stay in the command's row only
    /// (<see cref="CommandEventData"/>); its size for retention counts them all the same.
    /// </summary>
    internal static async Task<long> InsertEventAsync(
        SqliteDb db, string cluster, string type, DateTimeOffset at, string? agentId, string? sessionId, JsonElement? data, CancellationToken cancellationToken,
        Func<string, bool>? knownCommand = null)
    {
        // Bound as UTF-8 as it is, never as a string: the element's own bytes, or their lifted copy in a pooled buffer.
        var hasData = data is { ValueKind: not JsonValueKind.Undefined };
        var size = EventRowOverhead + (hasData ? JsonMarshal.GetRawUtf8Value(data!.Value).Length : 0);
        using var light = hasData && CommandEventData.IsCommandEvent(type) ? CommandEventData.Lift(JsonMarshal.GetRawUtf8Value(data!.Value)) : default;
        // The write that wrote or read the command knows it exists; anyone else looks.
        var useLifted = light.CommandId is { } liftedFrom
            && (knownCommand?.Invoke(liftedFrom) == true || await CommandExistsAsync(db, liftedFrom, cancellationToken));
        using var insert = db.Write(InsertEventSql)
            .Bind("@cluster", cluster).Bind("@type", type).Bind("@at", at).Bind("@agent_id", agentId)
            .Bind("@session_id", sessionId).Bind("@size", size)
            .Bind("@command_id", useLifted ? light.CommandId : null).Bind("@lifted", useLifted ? light.Lifted : 0);
        if (useLifted)
        {
            insert.BindText("@data", light.Json);
        }
        else
        {
            insert.Bind("@data", data);
        }
        return insert.ExecuteInt64();
    }

    private static async Task<bool> CommandExistsAsync(SqliteDb db, string commandId, CancellationToken cancellationToken)
    {
        await using var exists = db.Command(SelectCommandExists).Bind("@command_id", commandId);
        return await exists.ScalarInt64Async(cancellationToken) > 0;
    }

    /// <summary>Appends an audit entry; the store assigns its id, so <see cref="AuditRecord.Id"/> is ignored.</summary>
    internal static Task InsertAuditAsync(SqliteDb db, AuditRecord entry, CancellationToken cancellationToken) =>
        db.Write(InsertAuditSql)
            .Bind("@at", entry.At).Bind("@key_id", entry.KeyId).Bind("@cluster", entry.Cluster).Bind("@method", entry.Method)
            .Bind("@path", entry.Path).Bind("@status", entry.Status).Bind("@code", entry.Code)
            .RunAsync(cancellationToken);
}
