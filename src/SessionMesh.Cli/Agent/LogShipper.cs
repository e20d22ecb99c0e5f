using System.Threading.Channels;
using SessionMesh.Client;
using SessionMesh.Contracts;

namespace SessionMesh.Cli.Agent;

/// <summary>
/// Ships the child's output lines to the mesh in batches, never blocking the child: each line is echoed to the
/// wrapper's own stdout or stderr and put in a bounded buffer; when the buffer is full (the server slow or away) the
/// line is counted as dropped, and the count goes with the next batch. One batch is in flight at a time.
/// </summary>
internal sealed class LogShipper
{
    /// <summary>Lines longer than this are cut (the server refuses longer ones).</summary>
    public const int MaxLineChars = 8 * 1024;
    private const int BufferLines = 20_000;
    private const int BatchLines = 1000;
    private const int BatchChars = 256 * 1024;
    private static readonly TimeSpan s_drainTimeout = TimeSpan.FromSeconds(10);

    private readonly Channel<LogLineInput> _buffer = Channel.CreateBounded<LogLineInput>(new BoundedChannelOptions(BufferLines) { SingleReader = true });
    private readonly SessionMeshClient? _client;
    private readonly string _agentId;
    private readonly CliContext _context;
    private readonly Lock _echo = new();
    private readonly Task _loop;
    private long _dropped;

    /// <summary>Ships to <paramref name="client"/>; with null, only echoes (logs off).</summary>
    public LogShipper(CliContext context, SessionMeshClient? client, string agentId)
    {
        _context = context;
        _client = client;
        _agentId = agentId;
        _loop = client is null ? Task.CompletedTask : Task.Run(ShipLoopAsync);
    }

    /// <summary>Called on the child's output threads for each line.</summary>
    public void OnLine(LogStream stream, string text)
    {
        lock (_echo)
        {
            (stream == LogStream.Stdout ? _context.Out : _context.Error).WriteLine(text);
        }
        if (_client is null)
        {
            return;
        }
        var line = new LogLineInput { Stream = stream == LogStream.Stdout ? "stdout" : "stderr", Text = text.Length > MaxLineChars ? text[..MaxLineChars] : text };
        if (!_buffer.Writer.TryWrite(line))
        {
            Interlocked.Increment(ref _dropped);
        }
    }

    /// <summary>Ships what is buffered (for at most a few seconds) and stops.</summary>
    public async Task DrainAsync()
    {
        _buffer.Writer.TryComplete();
        await _loop.WaitAsync(s_drainTimeout, _context.Console.Time).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        lock (_echo)
        {
            _context.Out.Flush();
            _context.Error.Flush();
        }
    }

    private async Task ShipLoopAsync()
    {
        var failures = 0;
        var batch = new List<LogLineInput>(BatchLines);
        while (await _buffer.Reader.WaitToReadAsync())
        {
            var chars = 0;
            while (batch.Count < BatchLines && chars < BatchChars && _buffer.Reader.TryRead(out var line))
            {
                batch.Add(line);
                chars += line.Text!.Length;
            }
            var dropped = Interlocked.Exchange(ref _dropped, 0);
            try
            {
                await _client!.AppendLogsAsync(_agentId, new LogAppendRequest { Lines = batch, Dropped = dropped == 0 ? null : dropped });
                failures = 0;
            }
            catch (Exception ex) when (ex is SessionMeshException or SessionMeshConnectionException or OperationCanceledException)
            {
                // The batch is lost, and counted: the buffer keeps filling meanwhile, so the child never waits.
                Interlocked.Add(ref _dropped, dropped + batch.Count);
                _context.Trace($"log batch of {batch.Count} lines not shipped: {ex.Message}");
                if (ex is SessionMeshException { Status: 400 or 403 or 404 })
                {
                    return; // the server will not take them (an old server, a key without the right): stop trying
                }
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(5000, 200 * Math.Pow(2, Math.Min(failures++, 5)))), _context.Console.Time);
            }
            batch.Clear();
        }
        await ShipLastDroppedAsync();
    }

    /// <summary>
    /// Once the buffer is done: lines counted as dropped since the last batch (a full buffer at the end, a last batch
    /// that failed, a line that came after the end) go in one batch of their own, so the server's count holds them.
    /// </summary>
    private async Task ShipLastDroppedAsync()
    {
        var dropped = Interlocked.Exchange(ref _dropped, 0);
        if (dropped == 0)
        {
            return;
        }
        try
        {
            await _client!.AppendLogsAsync(_agentId, new LogAppendRequest { Lines = [], Dropped = dropped });
        }
        catch (Exception ex) when (ex is SessionMeshException or SessionMeshConnectionException or OperationCanceledException)
        {
            _context.Trace($"the count of {dropped} dropped log lines not shipped: {ex.Message}");
        }
    }
}
