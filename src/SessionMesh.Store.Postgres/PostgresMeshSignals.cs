using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NpgsqlTypes;
using SessionMesh.Mesh;

namespace SessionMesh.Store.Postgres;

/// <summary>
/// Signals across the replicas of one database, over LISTEN/NOTIFY on the channel <see cref="Channel"/>. A key notified
/// here wakes this server's waiters at once and is sent to the others in the background (many keys per statement);
/// each replica listens on a connection of its own and wakes its waiters for the keys the others send, after telling
/// the mesh (<see cref="IReplicaSignals.NotifiedElsewhere"/>). A notification is sent after the commit it follows, so
/// whoever wakes reads the change.
/// </summary>
/// <remarks>
/// NOTIFY is not durable: a replica whose listening connection broke misses what was sent meanwhile. When it is back,
/// it raises <see cref="Resynchronised"/> and wakes every waiter, so each stream and watcher reads the store again
/// (the catch-up read): a missed notification delays nothing beyond the reconnect and loses nothing.
/// </remarks>
public sealed partial class PostgresMeshSignals : IReplicaSignals, IAsyncDisposable
{
    /// <summary>The notification channel.</summary>
    public const string Channel = "session_mesh";

    private const int MaxKeysPerSend = 256;
    private static readonly TimeSpan s_retryFirst = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan s_retryMost = TimeSpan.FromSeconds(5);

    private readonly InProcessMeshSignals _local = new();
    private readonly Channel<string> _outgoing = System.Threading.Channels.Channel.CreateUnbounded<string>(new() { SingleReader = true });
    private readonly NpgsqlDataSource _sender;
    private readonly string _listenConnectionString;
    private readonly string _origin = Guid.NewGuid().ToString("N")[..12];
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sending;
    private readonly Task _listening;
    private readonly TaskCompletionSource _firstListen = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Starts sending and listening on the database of <paramref name="store"/>.</summary>
    public PostgresMeshSignals(PostgresMeshStore store, ILogger<PostgresMeshSignals>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _sender = store.DataSource;
        // The listening connection is a session of its own, outside the pool, for as long as it lasts.
        _listenConnectionString = new NpgsqlConnectionStringBuilder(store.ConnectionString) { Pooling = false, KeepAlive = 5 }.ConnectionString;
        _sending = Task.Run(SendLoopAsync);
        _listening = Task.Run(ListenLoopAsync);
    }

    /// <inheritdoc />
    public event Action<string>? NotifiedElsewhere;

    /// <inheritdoc />
    public event Action? Resynchronised;

    /// <summary>Completes once this replica listens (tests wait for it before expecting another replica's signals).</summary>
    public Task Listening => _firstListen.Task;

    /// <inheritdoc />
    public Task Next(string key) => _local.Next(key);

    /// <inheritdoc />
    public CancellationToken NextCancellation(string key) => _local.NextCancellation(key);

    /// <inheritdoc />
    public void Release(string key) => _local.Release(key);

    /// <inheritdoc />
    public void Notify(string key)
    {
        _local.Notify(key);
        _outgoing.Writer.TryWrite(key);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        _outgoing.Writer.TryComplete();
        // What is queued still goes out (a steer committed just before a clean stop reaches its stream elsewhere).
        await Task.WhenAny(_sending, Task.Delay(TimeSpan.FromSeconds(2)));
        await _stop.CancelAsync();
        await Task.WhenAll(_sending, _listening).ContinueWith(static _ => { }, TaskScheduler.Default);
        _stop.Dispose();
    }

    private async Task SendLoopAsync()
    {
        var payloads = new List<string>(MaxKeysPerSend);
        var reader = _outgoing.Reader;
        while (await WaitToReadAsync(reader))
        {
            payloads.Clear();
            while (payloads.Count < MaxKeysPerSend && reader.TryRead(out var key))
            {
                payloads.Add(_origin + "\n" + key);
            }
            try
            {
                await using var connection = await _sender.OpenConnectionAsync(_stop.Token);
                await using var command = new NpgsqlCommand("SELECT pg_notify(@channel, payload) FROM unnest(@payloads) AS payload", connection)
                    .Bind("@channel", Channel).BindArray("@payloads", NpgsqlDbType.Text, payloads);
                await command.ExecuteNonQueryAsync(_stop.Token);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                // The database is unreachable: the other replicas lost their listening connections too, and read
                // everything again when they are back (Resynchronised), so these keys are not lost to them.
                LogSendFailed(_logger, ex, payloads.Count);
            }
        }
    }

    private async Task<bool> WaitToReadAsync(ChannelReader<string> reader)
    {
        try
        {
            return await reader.WaitToReadAsync(_stop.Token);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task ListenLoopAsync()
    {
        var retry = s_retryFirst;
        var broken = false;
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(_listenConnectionString);
                await connection.OpenAsync(_stop.Token);
                connection.Notification += OnNotification;
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(_stop.Token);
                }
                retry = s_retryFirst;
                if (_firstListen.Task.IsCompleted)
                {
                    // Whatever was sent while this replica was not listening is read again: memory first (what the
                    // first LISTEN needs not: memory then holds nothing of other replicas yet), then every waiter.
                    LogListening(_logger);
                    Resynchronised?.Invoke();
                }
                _local.NotifyAll();
                RelearnListeners();
                _firstListen.TrySetResult();
                broken = false;
                while (true)
                {
                    await connection.WaitAsync(_stop.Token);
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                if (!broken)
                {
                    LogListenBroken(_logger, ex);
                }
                broken = true;
            }
            try
            {
                await Task.Delay(retry, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            retry = TimeSpan.FromTicks(Math.Min(retry.Ticks * 2, s_retryMost.Ticks));
        }
    }

    private void OnNotification(object sender, NpgsqlNotificationEventArgs e)
    {
        var payload = e.Payload;
        var separator = payload.IndexOf('\n', StringComparison.Ordinal);
        if (separator < 0 || payload.AsSpan(0, separator).SequenceEqual(_origin))
        {
            return;
        }
        var key = payload[(separator + 1)..];
        if (HeardListeners(payload[..separator], key))
        {
            return;
        }
        try
        {
            NotifiedElsewhere?.Invoke(key);
        }
        finally
        {
            _local.Notify(key);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not send {Count} notifications to the other replicas")]
    private static partial void LogSendFailed(ILogger logger, Exception exception, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lost the notification connection to the other replicas; reconnecting, then everything is read again")]
    private static partial void LogListenBroken(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Listening to the other replicas again; caught up from the database")]
    private static partial void LogListening(ILogger logger);
}
