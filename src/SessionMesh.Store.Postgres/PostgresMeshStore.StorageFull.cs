using Microsoft.Extensions.Logging;
using Npgsql;
using SessionMesh.Mesh;

namespace SessionMesh.Store.Postgres;

/// <summary>
/// A full disk on the database server. A write PostgreSQL has no room for (SQLSTATE <c>53100</c>, disk_full) is refused
/// as <see cref="MeshErrorKind.StorageFull"/>; nothing of it is kept. The store then counts as full until a probe
/// write of its own succeeds: while full, <see cref="IsWritableAsync"/> tries one, so readiness comes back by itself.
/// </summary>
public sealed partial class PostgresMeshStore
{
    private const string DiskFull = "53100";

    private const int ProbeBytes = 64 * 1024;

    private const string ProbeSql = """
        INSERT INTO storage_probe (id, filler) VALUES (1, repeat('x', @bytes))
        ON CONFLICT (id) DO UPDATE SET filler = excluded.filler
        """;

    private volatile bool _full;

    /// <summary>True for PostgreSQL's "could not extend file: no space left on device".</summary>
    internal static bool IsFull(PostgresException exception) => exception.SqlState == DiskFull;

    /// <summary>
    /// What a caller gets for a failed write: <c>storage_full</c> when the database had no room (remembering that it
    /// is full), otherwise <paramref name="error"/> itself.
    /// </summary>
    internal Exception Refused(Exception error)
    {
        if (error is not PostgresException postgres || !IsFull(postgres))
        {
            return error;
        }
        if (!_full)
        {
            _full = true;
            LogStorageFull(_logger, _name);
        }
        return MeshException.StorageFull(error);
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
            await using var tx = (PostgresWriteTransaction)await BeginWriteAsync(cancellationToken);
            await tx.WriteAsync(async db =>
            {
                await using var probe = new NpgsqlCommand(ProbeSql, db).Bind("@bytes", ProbeBytes);
                return await probe.ExecuteNonQueryAsync(cancellationToken);
            });
            await tx.CommitAsync(cancellationToken);
            _full = false;
            LogWritableAgain(_logger, _name);
            return true;
        }
        catch (Exception ex) when (ex is MeshException { Kind: MeshErrorKind.StorageFull } or NpgsqlException)
        {
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The database {Store} is full: writes are refused with 507 storage_full and /readyz fails until space is freed")]
    private static partial void LogStorageFull(ILogger logger, string store);

    [LoggerMessage(Level = LogLevel.Information, Message = "The database {Store} takes writes again")]
    private static partial void LogWritableAgain(ILogger logger, string store);
}
