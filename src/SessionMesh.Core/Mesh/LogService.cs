using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using SessionMesh.Contracts;
using SessionMesh.Model;
using SessionMesh.Security;

namespace SessionMesh.Mesh;

/// <summary>
/// Agents' output, as shipped by <c>session-mesh agent</c>: the last lines of each agent kept in memory (a
/// <see cref="LogRing"/> bounded by <see cref="MeshOptions.LogTailLines"/> and <see cref="MeshOptions.LogTailBytes"/>,
/// at most <see cref="MeshOptions.LogTailAgents"/> agents), read as a tail or followed live. Every transport (HTTP,
/// SSE, MCP, the dashboard) reads through here. The tail is not stored: a server restart starts it empty, and each
/// replica keeps the lines shipped to it.
/// </summary>
public sealed class LogService(MeshRuntime mesh)
{
    /// <summary>The longest line kept, in characters.</summary>
    public const int MaxLineChars = 16 * 1024;

    /// <summary>The most lines one append may carry.</summary>
    public const int MaxLinesPerAppend = 10_000;

    /// <summary>How many lines a tail shows when asked for none.</summary>
    public const int DefaultTail = 100;

    private const int FollowBatch = 500;

    private readonly ConcurrentDictionary<(string Cluster, string AgentId), LogRing> _rings = new();
    private long _sequence;

    /// <summary>
    /// Appends a batch of an agent's output lines. The caller acts for the agent (the <c>agent</c> scope; a bound key
    /// only for its own agent), which must be known.
    /// </summary>
    public async Task<LogAppendResponse> AppendAsync(MeshCaller caller, string agentId, LogAppendRequest request, CancellationToken cancellationToken)
    {
        Validate.AgentId(agentId);
        var cluster = caller.ResolveCluster(request.Cluster);
        caller.RequireActingFor(agentId);
        var input = request.Lines ?? [];
        if (input.Count > MaxLinesPerAppend)
        {
            throw MeshException.Invalid("lines", $"'lines' holds {input.Count} lines; at most {MaxLinesPerAppend} per request.");
        }
        if (request.Dropped is < 0)
        {
            throw MeshException.Invalid("dropped", "'dropped' must be 0 or more.");
        }
        for (var i = 0; i < input.Count; i++)
        {
            var line = input[i] ?? throw MeshException.Invalid($"lines[{i}]", $"'lines[{i}]' must be an object with 'text'.");
            if (line.Stream is not (null or "stdout" or "stderr"))
            {
                throw MeshException.Invalid($"lines[{i}].stream", $"'lines[{i}].stream' must be 'stdout' or 'stderr'.");
            }
            if (line.Text is null)
            {
                throw MeshException.Invalid($"lines[{i}].text", $"'lines[{i}].text' is required.");
            }
            if (line.Text.Length > MaxLineChars)
            {
                throw MeshException.Invalid($"lines[{i}].text", $"'lines[{i}].text' is {line.Text.Length} characters; at most {MaxLineChars}.");
            }
        }
        await RequireAgentAsync(cluster, agentId, cancellationToken);
        var now = mesh.Now();
        var ring = Ring(cluster, agentId);
        var lines = new List<LogLineView>(input.Count);
        lock (ring)
        {
            // Numbered under the ring's lock so a ring's lines are in sequence order; one counter for every ring, so
            // a ring let go and made again never reuses a number a follower has seen.
            foreach (var line in input)
            {
                lines.Add(new LogLineView { Sequence = Interlocked.Increment(ref _sequence), At = now, Stream = line.Stream ?? "stdout", Text = line.Text! });
            }
            ring.Append(lines, request.Dropped ?? 0, now);
        }
        LetGoOfStaleRings();
        return new LogAppendResponse { Accepted = lines.Count, LastSequence = lines.Count > 0 ? lines[^1].Sequence : Interlocked.Read(ref _sequence) };
    }

    /// <summary>The last <paramref name="tail"/> lines (default 100) of the agent's output; <c>read</c> scope within the cluster.</summary>
    public async Task<LogTailView> TailAsync(MeshCaller caller, string agentId, string? cluster, int? tail, CancellationToken cancellationToken)
    {
        var (resolved, count) = await CheckReadAsync(caller, agentId, cluster, tail, cancellationToken);
        var ring = _rings.GetValueOrDefault((resolved, agentId));
        return new LogTailView
        {
            AgentId = agentId,
            Cluster = resolved,
            Items = ring?.Tail(count) ?? [],
            Dropped = ring?.Dropped ?? 0,
            Evicted = ring?.Evicted ?? 0,
        };
    }

    /// <summary>
    /// Checks a follow of the agent's output (errors before anything is streamed) and returns where it starts: after
    /// <paramref name="after"/> when resuming, else at the last <paramref name="tail"/> lines. Read it with <see cref="FollowAsync(LogFollowStart, CancellationToken)"/>.
    /// </summary>
    public async Task<LogFollowStart> StartFollowAsync(MeshCaller caller, string agentId, string? cluster, int? tail, long? after, CancellationToken cancellationToken)
    {
        var (resolved, count) = await CheckReadAsync(caller, agentId, cluster, tail, cancellationToken);
        var start = after ?? (_rings.GetValueOrDefault((resolved, agentId))?.Tail(count) is [var first, ..] ? first.Sequence - 1 : Interlocked.Read(ref _sequence));
        return new LogFollowStart(resolved, agentId, start);
    }

    /// <summary>The lines after <paramref name="start"/>, then each new line as it is appended, until <paramref name="cancellationToken"/> fires.</summary>
    public async IAsyncEnumerable<LogLineView> FollowAsync(LogFollowStart start, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(start);
        var (cluster, agentId, after) = start;

        while (true)
        {
            // Looked up on every round: a ring let go and made again is picked up, its numbers continuing.
            var (lines, appended) = Ring(cluster, agentId).After(after, FollowBatch);
            foreach (var line in lines)
            {
                after = line.Sequence;
                yield return line;
            }
            if (lines.Count == 0)
            {
                await appended.WaitAsync(cancellationToken);
            }
        }
    }

    private async Task<(string Cluster, int Tail)> CheckReadAsync(MeshCaller caller, string agentId, string? cluster, int? tail, CancellationToken cancellationToken)
    {
        Validate.AgentId(agentId);
        caller.Require(MeshScopes.Read);
        var resolved = caller.ResolveCluster(cluster);
        var count = tail ?? DefaultTail;
        if (count is < 0 or > 100_000)
        {
            throw MeshException.Invalid("tail", "'tail' must be between 0 and 100000 lines.");
        }
        await RequireAgentAsync(resolved, agentId, cancellationToken);
        return (resolved, count);
    }

    private async Task RequireAgentAsync(string cluster, string agentId, CancellationToken cancellationToken)
    {
        if (await mesh.Store.GetAgentAsync(cluster, agentId, cancellationToken) is null)
        {
            throw MeshException.AgentNotFound(agentId);
        }
    }

    private LogRing Ring(string cluster, string agentId) =>
        _rings.GetOrAdd((cluster, agentId), _ => new LogRing(mesh.Options.LogTailLines, mesh.Options.LogTailBytes));

    /// <summary>Past <see cref="MeshOptions.LogTailAgents"/> rings, the least recently written go.</summary>
    private void LetGoOfStaleRings()
    {
        var excess = _rings.Count - mesh.Options.LogTailAgents;
        if (excess <= 0)
        {
            return;
        }
        foreach (var (key, _) in _rings.OrderBy(r => r.Value.LastAppendTicks).Take(excess).ToList())
        {
            _rings.TryRemove(key, out _);
        }
    }
}

/// <summary>A checked follow of an agent's output: the lines after <paramref name="After"/> come next.</summary>
public sealed record LogFollowStart(string Cluster, string AgentId, long After);
