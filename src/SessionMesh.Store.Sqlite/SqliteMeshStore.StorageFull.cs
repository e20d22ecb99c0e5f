using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using SessionMesh.Mesh;

namespace SessionMesh.Store.Sqlite;

/// <summary>
/// A full disk. A write SQLite has no room for (<c>SQLITE_FULL</c>: the file or its WAL cannot grow) is refused as
/// <see cref="MeshErrorKind.StorageFull"/>; nothing of it is kept, and the rest of the store is untouched — a write that
/// cannot be rolled back alone fails its batch, whose callers get the same refusal, and the next write starts a fresh
/// batch on a fresh connection. The store then counts as full until a probe write of its own succeeds: while full,
/// <see cref="IsWritableAsync"/> tries one, so readiness comes back by itself once space returns. Other writes that
/// happen to fit (a row in a page with room left) do not count: they say nothing about the next large one.
/// </summary>
public sealed partial class SqliteMeshStore
{
    private const int SqliteFull = 13;

    /// <summary>What the probe writes: a little more than one could fit in the last few free pages of a full disk.</summary>
    private const int ProbeBytes = 64 * 1024;

    private const string ProbeSql = "INSERT OR REPLACE INTO storage_probe (id, filler) VALUES (1, zeroblob(@bytes))";

    private volatile bool _full;

    // Test hook: the writer connection's max_page_count, applied again whenever the writer is reopened.
    private long? _maxPageCount;

    /// <summary>True for SQLite's "database or disk is full".</summary>
    internal static bool IsFull(SqliteException exception) => (exception.SqliteErrorCode & 0xFF) == SqliteFull;

    /// <summary>
    /// What a caller gets for a failed write: <c>storage_full</c> when the store had no room (remembering that it is
    /// full), otherwise <paramref name="error"/> itself.
    /// </summary>
    internal Exception Refused(Exception error)
    {
        if (error is not SqliteException sqlite || !IsFull(sqlite))
        {
            return error;
        }
        if (!_full)
        {
            _full = true;
            LogStorageFull(_logger, FilePath);
        }
        return MeshException.StorageFull(error);
    }

    /// <summary>The probe write was committed: the store has room again.</summary>
    private void Writable()
    {
        if (_full)
        {
            _full = false;
            LogWritableAgain(_logger, FilePath);
        }
    }

    /// <inheritdoc />
    public async Task<bool> IsWritableAsync(CancellationToken cancellationToken)
    {
        if (!_full)
        {
            return true;
        }
        try
        {
            // Through the ordinary write path: the group commit, the fsync.
            await using var tx = (SqliteWriteTransaction)await BeginWriteAsync(cancellationToken);
            await tx.WriteAsync(async db =>
            {
                await using var probe = db.Command(ProbeSql).Bind("@bytes", ProbeBytes);
                return await probe.ExecuteNonQueryAsync(cancellationToken);
            });
            await tx.CommitAsync(cancellationToken);
            Writable();
            return true;
        }
        catch (Exception ex) when (ex is MeshException { Kind: MeshErrorKind.StorageFull } or SqliteException)
        {
            return false;
        }
    }

    /// <summary>
    /// Test hook: caps the database at its current size plus <paramref name="extraPages"/> pages (SQLite's
    /// <c>max_page_count</c>), so that writes past it fail with a genuine <c>SQLITE_FULL</c>; null lifts the cap.
    /// </summary>
    internal async Task LimitPagesAsync(long? extraPages, CancellationToken cancellationToken)
    {
        await _group.OutsideBatchAsync(async () =>
        {
            var db = new SqliteDb(await GetWriterAsync(cancellationToken), null);
            long limit = uint.MaxValue - 1;
            if (extraPages is { } extra)
            {
                await using var count = db.Command("PRAGMA page_count");
                limit = await count.ScalarInt64Async(cancellationToken) + extra;
            }
            _maxPageCount = extraPages is null ? null : limit;
            await ApplyMaxPageCountAsync(db, limit, cancellationToken);
        }, cancellationToken);
    }

    private static async Task ApplyMaxPageCountAsync(SqliteDb db, long limit, CancellationToken cancellationToken)
    {
        await using var pragma = db.Command("PRAGMA max_page_count = " + limit.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await pragma.ExecuteNonQueryAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The store {File} is full: writes are refused with 507 storage_full and /readyz fails until space is freed")]
    private static partial void LogStorageFull(ILogger logger, string file);

    [LoggerMessage(Level = LogLevel.Information, Message = "The store {File} takes writes again")]
    private static partial void LogWritableAgain(ILogger logger, string file);
}
