using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SQLitePCL;

namespace SessionMesh.Store.Sqlite;

/// <summary>
/// The embedded store: one SQLite file in WAL mode. Writers are serialised in-process by one
/// semaphore over long-lived writer connections, so SQLite never has to arbitrate (no SQLITE_BUSY
/// spinning); reads use short-lived pooled connections, which WAL lets run alongside the writer and
/// which see committed data only. Writes are group-committed (<see cref="GroupCommit"/>):
/// each write transaction is a savepoint in a batch that commits with <c>synchronous=FULL</c>, one fsync
/// for every caller queued at the time, and <see cref="IMeshWriteTransaction.CommitAsync"/> returns only
/// once that fsync is done. Heartbeats do not write here at all: the mesh keeps leases in memory and
/// checkpoints them in batches (<c>LeaseTable</c>), as ordinary writes.
/// </summary>
public sealed partial class SqliteMeshStore : IMeshStore
{
    /// <summary>The database file name used when only a data directory is configured.</summary>
    public static string DefaultFileName => "session-mesh.db";

    // auto_vacuum first: it takes effect only on a database without tables yet (older files are converted by MigrateAsync).
    // temp_store=MEMORY: each write's savepoint keeps the pages it changes in a sub-journal, which a batch of writes grows
    // past SQLite's 64 KiB spill threshold; on disk that was a temp file written page by page under the write lock. It
    // only ever serves a rollback to a savepoint, never crash recovery (the WAL does that).
    // wal_autocheckpoint=20000: the writer copies the WAL into the database file once about 80 MiB of it has built up,
    // not every 4 MiB (SQLite's default of 1,000 pages). Each checkpoint holds the writer while it writes every page the
    // WAL changed since the last one and fsyncs the database file; a page rewritten by many batches (the tail of the
    // events table, an index leaf) is written into the file once per checkpoint, so rarer checkpoints write less: joins
    // went from 0.86-1.04 to 0.93-1.17 x etcd's lease grants (docs/benchmarks.md, thirteenth run). journal_size_limit
    // is above that size: a WAL that grew past it (a burst, a long read) is cut back to 128 MiB once it can start over.
    private const string WriterPragmas = "PRAGMA auto_vacuum=INCREMENTAL; PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=5000; "
        + "PRAGMA journal_size_limit=134217728; PRAGMA temp_store=MEMORY; PRAGMA wal_autocheckpoint=20000;";
    private const int ReaderBusyTimeoutMs = 5000;

    private readonly string _writerConnectionString;
    private readonly string _readerConnectionString;
    private readonly GroupCommit _group;
    private SqliteConnection? _writer;
    private WriterStatements? _statements;
    private readonly ILogger _logger;
    private bool _disposed;

    /// <summary>Opens (lazily) the store in <paramref name="dataSource"/>.</summary>
    /// <param name="dataSource">
    /// A database file path, created with its parent directory when missing, or a full
    /// Microsoft.Data.Sqlite connection string (<c>Data Source=...;...</c>). In-memory databases are
    /// not supported: every connection would see a different one.
    /// </param>
    public SqliteMeshStore(string dataSource, ILogger? logger = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataSource);
        SqliteLibrary.EnsureConfigured();
        _logger = logger ?? NullLogger.Instance;
        _group = new GroupCommit(_logger, BeginBatchAsync, Refused, CloseWritersAsync);
        var builder = ParseDataSource(dataSource);
        if (builder.Mode == SqliteOpenMode.Memory || builder.DataSource is "" or ":memory:")
        {
            throw new ArgumentException("The SQLite store needs a database file, not an in-memory database.", nameof(dataSource));
        }
        builder.DataSource = Path.GetFullPath(builder.DataSource);
        if (Path.GetDirectoryName(builder.DataSource) is { Length: > 0 } directory)
        {
            OwnerOnlyFiles.CreateDirectory(directory);
        }
        FilePath = builder.DataSource;
        OwnerOnlyFiles.PrepareDatabase(FilePath);

        // Writer connections live as long as the store; keeping them out of the pool keeps their
        // per-connection pragmas (synchronous) away from readers.
        builder.Mode = SqliteOpenMode.ReadWriteCreate;
        builder.Pooling = false;
        _writerConnectionString = builder.ToString();

        builder.Mode = SqliteOpenMode.ReadWrite;
        builder.Pooling = true;
        _readerConnectionString = builder.ToString();
    }

    /// <summary>The full path of the database file.</summary>
    public string FilePath { get; }

    /// <summary>Names the store for logs: <c>sqlite:/path/to/session-mesh.db</c>.</summary>
    public override string ToString() => "sqlite:" + FilePath;

    /// <summary>Batches committed with at least one write in them: one fsync each.</summary>
    internal long BatchCommits => _group.BatchCommits;

    /// <inheritdoc cref="GroupCommit.MaxBatchAge"/>
    internal TimeSpan MaxBatchAge { get => _group.MaxBatchAge; init => _group.MaxBatchAge = value; }

    /// <inheritdoc cref="GroupCommit.BeforeBatchCommitAsync"/>
    internal Func<Task>? BeforeBatchCommitAsync { get => _group.BeforeBatchCommitAsync; set => _group.BeforeBatchCommitAsync = value; }

    /// <inheritdoc />
    public Task MigrateAsync(CancellationToken cancellationToken) =>
        // Migrations run in transactions of their own, outside any batch.
        _group.OutsideBatchAsync(async () =>
        {
            var connection = await GetWriterAsync(cancellationToken);
            await MigrationRunner.RunAsync(connection, _logger, cancellationToken);
            await EnableIncrementalVacuumAsync(new SqliteDb(connection, null), cancellationToken);
        }, cancellationToken);

    /// <inheritdoc />
    public async Task<bool> PingAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await OpenReaderAsync(cancellationToken);
            await using var command = new SqliteDb(connection, null).Command("SELECT 1");
            return await command.ScalarInt64Async(cancellationToken) == 1;
        }
        catch (SqliteException)
        {
            return false;
        }
    }

    /// <inheritdoc />
    public async Task<IMeshWriteTransaction> BeginWriteAsync(CancellationToken cancellationToken) =>
        new SqliteWriteTransaction(this, await _group.BeginAsync(cancellationToken));

    /// <inheritdoc />
    public async Task<IMeshWriteTransaction> BeginRidingWriteAsync(TimeSpan patience, CancellationToken cancellationToken) =>
        new SqliteWriteTransaction(this, await _group.BeginRidingAsync(patience, cancellationToken));

    private async Task<DbTransaction> BeginBatchAsync(CancellationToken cancellationToken) =>
        SqliteBatchTransaction.Begin(await GetWriterAsync(cancellationToken), _statements!);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }
        // Let a write in flight finish before its connection goes away.
        await _group.OutsideBatchAsync(async () =>
        {
            _disposed = true;
            await CloseWritersAsync();
            using var reader = new SqliteConnection(_readerConnectionString);
            SqliteConnection.ClearPool(reader);
        }, CancellationToken.None);
    }

    private async Task<T> ReadAsync<T>(Func<SqliteDb, Task<T>> read, CancellationToken cancellationToken)
    {
        await using var connection = await OpenReaderAsync(cancellationToken);
        return await read(new SqliteDb(connection, null));
    }

    internal async Task<SqliteConnection> OpenReaderAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var connection = new SqliteConnection(_readerConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            // What PRAGMA busy_timeout does, without compiling a statement on every read (a pooled connection keeps
            // it, but nothing says whether this one is new).
            SqliteException.ThrowExceptionForRC(raw.sqlite3_busy_timeout(connection.Handle, ReaderBusyTimeoutMs), connection.Handle);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>The writer for transactions; call only while holding the write lock.</summary>
    private async Task<SqliteConnection> GetWriterAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_writer is null)
        {
            _writer = await OpenWriterAsync(WriterPragmas, cancellationToken);
            _statements = new WriterStatements();
            if (_maxPageCount is { } limit)
            {
                await ApplyMaxPageCountAsync(new SqliteDb(_writer, null), limit, cancellationToken);
            }
        }
        return _writer;
    }

    private async Task<SqliteConnection> OpenWriterAsync(string pragmas, CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_writerConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            await using var command = new SqliteDb(connection, null).Command(pragmas);
            await command.ExecuteNonQueryAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>The writer connection's kept statements; valid while the writer is open, under the write lock.</summary>
    internal WriterStatements? Statements => _statements;

    private async ValueTask CloseWritersAsync()
    {
        _statements?.Dispose();
        _statements = null;
        if (_writer is { } writer)
        {
            _writer = null;
            await writer.DisposeAsync();
        }
    }

    private static SqliteConnectionStringBuilder ParseDataSource(string dataSource)
    {
        if (dataSource.Contains('=', StringComparison.Ordinal))
        {
            try
            {
                var builder = new SqliteConnectionStringBuilder(dataSource);
                if (!string.IsNullOrEmpty(builder.DataSource))
                {
                    return builder;
                }
            }
            catch (ArgumentException)
            {
                // Not a connection string: a path that happens to contain '='.
            }
        }
        return new SqliteConnectionStringBuilder { DataSource = dataSource };
    }
}
