using System.Text;
using SessionMesh.Contracts;

namespace SessionMesh.Mesh;

/// <summary>
/// The last lines of one agent's output, bounded by line count and by bytes: an append past either bound lets the
/// oldest lines go. Followers wait for the next append. Thread-safe.
/// </summary>
internal sealed class LogRing(int maxLines, long maxBytes)
{
    /// <summary>What a line costs beyond its text (sequence, time, stream, bookkeeping).</summary>
    private const int LineOverheadBytes = 64;

    private readonly Lock _lock = new();
    private readonly Queue<(LogLineView Line, int Bytes)> _lines = new();
    private TaskCompletionSource _appended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _bytes;

    /// <summary>Lines the shipper reported dropped, in all.</summary>
    public long Dropped { get; private set; }

    /// <summary>Lines let go to stay within the bounds, in all.</summary>
    public long Evicted { get; private set; }

    /// <summary>When the ring was last appended to (for letting the least recently written ring go).</summary>
    public long LastAppendTicks { get; private set; }

    /// <summary>Appends lines already numbered by the caller; wakes every follower.</summary>
    public void Append(IReadOnlyList<LogLineView> lines, long dropped, DateTimeOffset now)
    {
        TaskCompletionSource wake;
        lock (_lock)
        {
            foreach (var line in lines)
            {
                var bytes = Encoding.UTF8.GetByteCount(line.Text) + LineOverheadBytes;
                _lines.Enqueue((line, bytes));
                _bytes += bytes;
            }
            while (_lines.Count > maxLines || (_bytes > maxBytes && _lines.Count > 0))
            {
                _bytes -= _lines.Dequeue().Bytes;
                Evicted++;
            }
            Dropped += dropped;
            LastAppendTicks = now.UtcTicks;
            wake = _appended;
            _appended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        wake.TrySetResult();
    }

    /// <summary>The last <paramref name="count"/> lines, oldest first.</summary>
    public List<LogLineView> Tail(int count)
    {
        lock (_lock)
        {
            return _lines.Skip(Math.Max(0, _lines.Count - count)).Select(l => l.Line).ToList();
        }
    }

    /// <summary>Up to <paramref name="max"/> lines after sequence <paramref name="after"/>, oldest first; with none, a task completed by the next append.</summary>
    public (List<LogLineView> Lines, Task Appended) After(long after, int max)
    {
        lock (_lock)
        {
            var lines = _lines.Select(l => l.Line).Where(l => l.Sequence > after).Take(max).ToList();
            return (lines, _appended.Task);
        }
    }
}
