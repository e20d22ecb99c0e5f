using System.Data.Common;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace SessionMesh.Store.Postgres;

/// <summary>
/// The shared store: one PostgreSQL database that several <c>serve</c> replicas use at once. Reads take pooled
/// connections of one <see cref="NpgsqlDataSource"/> (statements used twice are prepared automatically). Writes are
/// group-committed as in the SQLite store (<see cref="GroupCommit"/>): each write transaction is a
/// savepoint in a batch on one writer connection, and the batch holds a transaction-scoped advisory lock
/// (<see cref="WriteLockKey"/>) from its start to its commit, so writers are serialised across every replica — what
/// <see cref="IMeshWriteTransaction"/> promises — and event revisions become visible in commit order.
/// Heartbeats do not write here: the mesh keeps leases in memory and checkpoints them in batches.
/// </summary>
public sealed partial class PostgresMeshStore : IMeshStore
{
    /// <summary>The advisory lock every write batch holds until it commits: one writer at a time across replicas.</summary>
    internal const long WriteLockKey = 0x5345_534D_4553_4801;

    /// <summary>The advisory lock migrations run under, so replicas starting together migrate once.</summary>
    internal const long MigrationLockKey = 0x5345_534D_4553_4802;

    /// <summary>The advisory lock the expiry leader holds (<c>PostgresLeaseLeader</c>).</summary>
    internal const long LeaderLockKey = 0x5345_534D_4553_4803;

    /// <summary>Held shared by every running replica (<see cref="PostgresLeaseLeader.Replicas"/> counts its holders).</summary>
    internal const long PresenceLockKey = 0x5345_534D_4553_4804;

    private readonly NpgsqlDataSource _dataSource;
    private readonly GroupCommit _group;
    private NpgsqlConnection? _writer;
    private readonly ILogger _logger;
    private readonly string _name;
    private bool _disposed;

    /// <summary>A store over the database of <paramref name="connectionString"/> (an Npgsql connection string).</summary>
    public PostgresMeshStore(string connectionString, ILogger? logger = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        _logger = logger ?? NullLogger.Instance;
        _group = new GroupCommit(_logger, BeginBatchAsync, Refused, CloseWriterAsync);
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        var settings = builder.ConnectionStringBuilder;
        // The same few statements run all the time: prepare each once per connection, after its second use.
        if (settings.MaxAutoPrepare == 0)
        {
            settings.MaxAutoPrepare = 128;
            settings.AutoPrepareMinUsages = 2;
        }
        settings.ApplicationName ??= "session-mesh";
        // Fail fast while the database is away (requests get 503, /readyz fails), unless the string says otherwise.
        if (!new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString }.ContainsKey("Timeout"))
        {
            settings.Timeout = 5;
        }
        ConnectionString = settings.ConnectionString;
        _name = "postgres:" + Describe(settings);
        _dataSource = builder.Build();
    }

    /// <summary>The connection string the store uses, with its defaults applied; the signals and the leader use it too.</summary>
    internal string ConnectionString { get; }

    /// <summary>The pool every read uses.</summary>
    internal NpgsqlDataSource DataSource => _dataSource;

    /// <summary>Names the store for logs (host, port, database and user; never the password).</summary>
    public override string ToString() => _name;

    /// <inheritdoc />
    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        NpgsqlConnection connection;
        try
        {
            connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or ArgumentException)
        {
            // What serve prints, in one line, when it cannot start on this store.
            throw new InvalidOperationException($"Could not connect to the PostgreSQL store {_name}: {ex.Message}", ex);
        }
        await using (connection)
        {
            await PostgresMigrationRunner.RunAsync(connection, _logger, cancellationToken);
        }
    }

    /// <inheritdoc />
    public async Task<bool> PingAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
            await using var command = new NpgsqlCommand("SELECT 1", connection);
            return await command.ScalarInt64Async(cancellationToken) == 1;
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            _dataSource.Clear();
            return false;
        }
    }

    /// <inheritdoc />
    public async Task<IMeshWriteTransaction> BeginWriteAsync(CancellationToken cancellationToken) =>
        new PostgresWriteTransaction(this, await _group.BeginAsync(cancellationToken));

    /// <inheritdoc />
    public async Task<IMeshWriteTransaction> BeginRidingWriteAsync(TimeSpan patience, CancellationToken cancellationToken) =>
        new PostgresWriteTransaction(this, await _group.BeginRidingAsync(patience, cancellationToken));

    /// <summary>
    /// Begins a batch's transaction on the writer connection and takes the cross-replica write lock
    /// (<see cref="WriteLockKey"/>) in it up front, held until the batch ends.
    /// </summary>
    private async Task<DbTransaction> BeginBatchAsync(CancellationToken cancellationToken)
    {
        var connection = await GetWriterAsync(cancellationToken);
        var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var lockWrites = new NpgsqlCommand(s_takeWriteLockSql, connection, transaction);
        await lockWrites.ExecuteNonQueryAsync(cancellationToken);
        return transaction;
    }

    private static readonly string s_takeWriteLockSql = $"SELECT pg_advisory_xact_lock({WriteLockKey.ToString(CultureInfo.InvariantCulture)})";

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
            await CloseWriterAsync();
            await _dataSource.DisposeAsync();
        }, CancellationToken.None);
    }

    private async Task<T> ReadAsync<T>(Func<NpgsqlConnection, Task<T>> read, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        try
        {
            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
            return await read(connection);
        }
        catch (NpgsqlException ex) when (ex.IsTransient)
        {
            // The database went away (a restart, a fail-over): the idle pooled connections are dead too.
            _dataSource.Clear();
            throw;
        }
    }

    /// <summary>The writer for transactions; call only while holding the write lock.</summary>
    private async Task<NpgsqlConnection> GetWriterAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_writer is { State: not System.Data.ConnectionState.Open })
        {
            await CloseWriterAsync();
        }
        return _writer ??= await _dataSource.OpenConnectionAsync(cancellationToken);
    }

    private async ValueTask CloseWriterAsync()
    {
        if (_writer is { } writer)
        {
            _writer = null;
            await writer.DisposeAsync();
        }
    }

    private static string Describe(NpgsqlConnectionStringBuilder settings) =>
        $"Host={settings.Host};Port={settings.Port};Database={settings.Database ?? settings.Username};Username={settings.Username}";
}
