using Microsoft.Data.Sqlite;
using SessionMesh.Model;
using static SessionMesh.Store.Sql.LockSql;

namespace SessionMesh.Store.Sqlite;

/// <summary>Session-bound locks: one row per (cluster, name), the primary key that makes a second holder impossible.</summary>
public sealed partial class SqliteMeshStore
{
    /// <inheritdoc />
    public Task<LockRecord?> GetLockAsync(string cluster, string name, CancellationToken cancellationToken) =>
        ReadAsync(db => SelectLockAsync(db, cluster, name, cancellationToken), cancellationToken);

    /// <inheritdoc />
    public async Task<IReadOnlyList<LockRecord>> ListLocksAsync(string cluster, string? afterName, int limit, CancellationToken cancellationToken) =>
        await ReadAsync(async db =>
        {
            await using var command = db.Command(SelectLocksPage).Bind("@cluster", cluster).Bind("@after", afterName ?? "").Bind("@limit", Math.Max(0, limit));
            return await command.ListAsync(ReadLock, cancellationToken);
        }, cancellationToken);

    internal static async Task<LockRecord?> SelectLockAsync(SqliteDb db, string cluster, string name, CancellationToken cancellationToken)
    {
        await using var command = db.Command(SelectLockSql).Bind("@cluster", cluster).Bind("@name", name);
        return await command.FirstOrDefaultAsync(ReadLock, cancellationToken);
    }

    internal static async Task UpsertLockAsync(SqliteDb db, LockRecord l, CancellationToken cancellationToken)
    {
        await using var command = db.Command(UpsertLockSql)
            .Bind("@cluster", l.Cluster).Bind("@name", l.Name).Bind("@session_id", l.SessionId).Bind("@agent_id", l.AgentId)
            .Bind("@acquired_at", l.AcquiredAt).Bind("@expires_at", l.ExpiresAt).Bind("@ttl", (long?)l.Ttl).Bind("@lock_delay", (long)l.LockDelay)
            .Bind("@metadata", SqliteJson.WriteLabels(l.Metadata)).Bind("@revision", l.Revision)
            .Bind("@released_at", l.ReleasedAt).Bind("@delay_until", l.DelayUntil);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    internal static async Task<bool> DeleteLockAsync(SqliteDb db, string cluster, string name, CancellationToken cancellationToken)
    {
        await using var command = db.Command(DeleteLockSql).Bind("@cluster", cluster).Bind("@name", name);
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    internal static async Task<IReadOnlyList<LockRecord>> SelectLocksHeldByAsync(SqliteDb db, string sessionId, CancellationToken cancellationToken)
    {
        await using var command = db.Command(SelectLocksHeldBy).Bind("@session_id", sessionId);
        return await command.ListAsync(ReadLock, cancellationToken);
    }

    internal static async Task<IReadOnlyList<LockRecord>> SelectExpiredLocksAsync(SqliteDb db, DateTimeOffset now, int limit, CancellationToken cancellationToken)
    {
        await using var command = db.Command(SelectExpiredLocks).Bind("@now", now).Bind("@limit", Math.Max(0, limit));
        return await command.ListAsync(ReadLock, cancellationToken);
    }

    internal static async Task<int> DeleteLapsedLockDelaysAsync(SqliteDb db, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = db.Command(DeleteLapsedDelaysSql).Bind("@now", now);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static LockRecord ReadLock(SqliteDataReader r) => new(
        Cluster: r.GetString(0),
        Name: r.GetString(1),
        SessionId: r.GetString(2),
        AgentId: r.GetString(3),
        AcquiredAt: DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(4)),
        ExpiresAt: r.IsDBNull(5) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(5)),
        Ttl: r.IsDBNull(6) ? null : r.GetInt32(6),
        LockDelay: r.GetInt32(7),
        Metadata: SqliteJson.ReadLabels(r.GetString(8)),
        Revision: r.GetInt64(9),
        ReleasedAt: r.IsDBNull(10) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(10)),
        DelayUntil: r.IsDBNull(11) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(11)));
}
