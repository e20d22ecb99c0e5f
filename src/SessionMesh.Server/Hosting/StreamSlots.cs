using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace SessionMesh.Server.Hosting;

/// <summary>
/// Counts the streams open now (SSE and long polls) per key and per agent, and refuses one past
/// <see cref="MeshServerOptions.MaxStreamsPerKey"/> or <see cref="MeshServerOptions.MaxCommandStreamsPerAgent"/>: each
/// open command stream renews its agent's lease and wakes on its commands, so hundreds of them for one agent cost the
/// store hundreds of writes a second, and a leaked client loop could hold every socket. A slot is freed when its
/// response ends (<see cref="HttpResponse.RegisterForDispose"/>).
/// </summary>
internal sealed class StreamSlots(IOptions<MeshServerOptions> options)
{
    /// <summary>What a refused stream is told to wait before trying again, in seconds.</summary>
    public const int RetryAfterSeconds = 5;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, int> _open = new(StringComparer.Ordinal);

    /// <summary>Streams open now under <paramref name="keyId"/>.</summary>
    public int OpenFor(string keyId)
    {
        lock (_lock)
        {
            return _open.GetValueOrDefault(KeySlot(keyId));
        }
    }

    /// <summary>
    /// Takes a slot for a stream of <paramref name="keyId"/> (and, for a command stream, of the agent
    /// <paramref name="agentId"/> in <paramref name="cluster"/>) until the response ends and returns null; or returns the
    /// answer to give instead: 429 <c>too_many_streams</c> with <c>Retry-After</c>.
    /// </summary>
    public IResult? TryOpen(HttpContext context, string keyId, string? cluster = null, string? agentId = null)
    {
        var limits = options.Value;
        var keySlot = KeySlot(keyId);
        var agentSlot = agentId is null ? null : $"agent\n{cluster}\n{agentId}";
        string? refusal = null;
        lock (_lock)
        {
            if (_open.GetValueOrDefault(keySlot) >= limits.MaxStreamsPerKey)
            {
                refusal = $"This key already has {limits.MaxStreamsPerKey} streams open (Server:MaxStreamsPerKey); close one, or use another key.";
            }
            else if (agentSlot is not null && _open.GetValueOrDefault(agentSlot) >= limits.MaxCommandStreamsPerAgent)
            {
                refusal = $"Agent '{agentId}' already has {limits.MaxCommandStreamsPerAgent} command streams open (Server:MaxCommandStreamsPerAgent); an agent needs one.";
            }
            else
            {
                Add(keySlot, 1);
                if (agentSlot is not null)
                {
                    Add(agentSlot, 1);
                }
            }
        }
        if (refusal is not null)
        {
            return new Refusal(refusal);
        }
        context.Response.RegisterForDispose(new Slot(this, keySlot, agentSlot));
        return null;
    }

    private static string KeySlot(string keyId) => "key\n" + keyId;

    private void Add(string slot, int delta)
    {
        var count = _open.GetValueOrDefault(slot) + delta;
        if (count <= 0)
        {
            _open.Remove(slot);
        }
        else
        {
            _open[slot] = count;
        }
    }

    private void Release(string keySlot, string? agentSlot)
    {
        lock (_lock)
        {
            Add(keySlot, -1);
            if (agentSlot is not null)
            {
                Add(agentSlot, -1);
            }
        }
    }

    /// <summary>A stream refused because its key or agent has as many open as allowed.</summary>
    private sealed class Refusal(string detail) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Problems.WriteAsync(httpContext, StatusCodes.Status429TooManyRequests, "too_many_streams", "Too many streams", detail);
        }
    }

    private sealed class Slot(StreamSlots owner, string keySlot, string? agentSlot) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                owner.Release(keySlot, agentSlot);
            }
        }
    }
}
