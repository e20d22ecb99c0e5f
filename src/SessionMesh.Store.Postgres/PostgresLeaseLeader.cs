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
    private static readonly string s_tryLead =
        $"SELECT pg_try_advisory_lock({PostgresMeshStore.LeaderLockKey.ToString(CultureInfo.InvariantCulture)}), (extract(epoch FROM clock_timestamp()) * 1000)::BIGINT";

    private const string StillLeading = "SELECT TRUE, (extract(epoch FROM clock_timestamp()) * 1000)::BIGINT";

    private readonly string _connectionString;
    private readonly PostgresClock _clock;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private NpgsqlConnection? _connection;
    private bool _leading;

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
                _connection = connection;
            }
            await using var command = new NpgsqlCommand(_leading ? StillLeading : s_tryLead, _connection);
            var sent = TimeProvider.System.GetUtcNow();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            _leading = reader.GetBoolean(0);
            _clock.Measured(sent, DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)), TimeProvider.System.GetUtcNow());
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "The database did not answer the leader check; this replica does not lead until it does")]
    private static partial void LogLeaderConnectionLost(ILogger logger, Exception exception);
}
