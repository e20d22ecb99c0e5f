using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using SessionMesh.Mesh;

namespace SessionMesh.Store.Postgres;

/// <summary>
/// The expiry leader among replicas: whoever holds the session advisory lock <see cref="PostgresMeshStore.LeaderLockKey"/>,
/// on a connection of its own kept for as long as it leads. Every replica asks on every sweep tick; when the leader
/// dies its connection closes, the database releases the lock, and the next replica to ask takes it (within one sweep
/// interval of the database noticing), then extends every open lease before it expires anything
/// (<see cref="MeshMaintenance.LeadAsync"/>). Each ask also measures the database clock (<see cref="PostgresClock"/>).
/// </summary>
public sealed partial class PostgresLeaseLeader : ILeaseLeader, IAsyncDisposable
{
    // Every replica holds the presence lock shared, on this connection, for as long as it runs; the database drops it
    // with the connection of a replica that died. Counting its holders counts the replicas (in this database only).
    private static readonly string s_joinPresence = $"SELECT pg_advisory_lock_shared({Key(PostgresMeshStore.PresenceLockKey)})";
    private static readonly string s_countReplicas = $"""
        (SELECT count(*) FROM pg_locks
         WHERE locktype = 'advisory' AND granted AND objsubid = 1
           AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
           AND classid = {Key(PostgresMeshStore.PresenceLockKey >> 32)} AND objid = {Key(PostgresMeshStore.PresenceLockKey & 0xFFFF_FFFF)})::INT
        """;
    private static readonly string s_tryLead =
        $"SELECT pg_try_advisory_lock({Key(PostgresMeshStore.LeaderLockKey)}), (extract(epoch FROM clock_timestamp()) * 1000)::BIGINT, {s_countReplicas}";
    private static readonly string s_stillLeading = $"SELECT TRUE, (extract(epoch FROM clock_timestamp()) * 1000)::BIGINT, {s_countReplicas}";

    private readonly string _connectionString;
    private readonly PostgresClock _clock;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private NpgsqlConnection? _connection;
    private bool _leading;
    private int _replicas = 1;

    /// <summary>A candidate for the lead on the database of <paramref name="store"/>.</summary>
    public PostgresLeaseLeader(PostgresMeshStore store, PostgresClock clock, ILogger<PostgresLeaseLeader>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        _connectionString = new NpgsqlConnectionStringBuilder(store.ConnectionString) { Pooling = false, KeepAlive = 5 }.ConnectionString;
        _clock = clock;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <inheritdoc />
    public async ValueTask<bool> TryLeadAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_connection is null)
            {
                _leading = false;
                var connection = new NpgsqlConnection(_connectionString);
                try
                {
                    await connection.OpenAsync(cancellationToken);
                }
                catch
                {
                    await connection.DisposeAsync();
                    throw;
                }
                await using (var presence = new NpgsqlCommand(s_joinPresence, connection))
                {
                    await presence.ExecuteNonQueryAsync(cancellationToken);
                }
                _connection = connection;
            }
            await using var command = new NpgsqlCommand(_leading ? s_stillLeading : s_tryLead, _connection);
            var sent = TimeProvider.System.GetUtcNow();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            _leading = reader.GetBoolean(0);
            _clock.Measured(sent, DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)), TimeProvider.System.GetUtcNow());
            Volatile.Write(ref _replicas, Math.Max(1, reader.GetInt32(2)));
            return _leading;
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            // The lock went with the connection (or will, once the database notices): lead again only by taking it anew.
            LogLeaderConnectionLost(_logger, ex);
            await DropConnectionAsync();
            return false;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    public int Replicas => Volatile.Read(ref _replicas);

    /// <summary>Gives up the lead (closing the connection releases the lock at once).</summary>
    public async ValueTask DisposeAsync()
    {
        await _gate.WaitAsync();
        try
        {
            await DropConnectionAsync();
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task DropConnectionAsync()
    {
        _leading = false;
        if (_connection is { } connection)
        {
            _connection = null;
            await connection.DisposeAsync();
        }
    }

    private static string Key(long key) => key.ToString(CultureInfo.InvariantCulture);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The database did not answer the leader check; this replica does not lead until it does")]
    private static partial void LogLeaderConnectionLost(ILogger logger, Exception exception);
}
