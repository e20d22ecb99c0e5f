using System.Net;
using System.Text;
using System.Text.Json;

namespace SessionMesh.Tests.Reliability;

/// <summary>
/// One client of the crash workload: joins, registrations, key mints and revocations, steers, messages, kills, acks
/// and leaves, one at a time, chosen at random, until the server dies under it. Each write answered 2xx goes into the
/// <see cref="CrashLedger"/>. Its own agent, the worker, receives its steers and messages and acks some of them.
/// Steers, messages and acks cut off by a crash are sent again, with the same Idempotency-Key, once the server is back.
/// </summary>
public sealed class CrashClient(int index, CrashLedger ledger, Random random)
{
    private const string Api = "api/session-mesh/";

    private readonly List<Victim> _victims = [];
    private readonly List<string> _keys = [];
    private readonly List<Retry> _retries = [];
    private readonly HashSet<string> _handedOut = [];
    private bool _workerJoined;
    private int _next;

    public string Worker => $"c{index}-worker";

    /// <summary>
    /// Runs until the server stops answering (it was killed); returns how many operations were answered.
    /// <paramref name="running"/> is set once the first one is.
    /// </summary>
    public async Task<int> RunAsync(HttpClient http, TaskCompletionSource running, CancellationToken cancellationToken)
    {
        var answered = 0;
        try
        {
            await SettleAsync(http, cancellationToken);
            while (!cancellationToken.IsCancellationRequested)
            {
                await OneOperationAsync(http, cancellationToken);
                answered++;
                running.TrySetResult();
            }
        }
        catch (Exception ex) when (IsCrash(ex))
        {
        }
        return answered;
    }

    /// <summary>Joins the worker if it has not joined yet, and sends again what a crash cut off. Throws if the server is down.</summary>
    public async Task SettleAsync(HttpClient http, CancellationToken cancellationToken)
    {
        if (!_workerJoined)
        {
            var join = await SendAsync(http, HttpMethod.Post, "sessions", $$"""{"agent_id": "{{Worker}}", "ttl": 3600}""", null, cancellationToken);
            if (Expect(join, HttpStatusCode.Created))
            {
                ledger.Joins[join.Json!.RootElement.GetProperty("session_id").GetString()!] = Worker;
                _workerJoined = true;
            }
        }
        while (_retries.Count > 0)
        {
            var retry = _retries[0];
            // Not counted for the audit: a retry that finds its first attempt committed changes nothing, and the entry of
            // a call that changed nothing is written after its answer, so the next crash may take it.
            var reply = await SendAsync(http, HttpMethod.Post, retry.Path, retry.Body, retry.IdempotencyKey, cancellationToken, audited: false);
            _retries.RemoveAt(0);
            if (Expect(reply, HttpStatusCode.OK))
            {
                retry.Answered(reply.Json!.RootElement);
            }
        }
    }

    private Task OneOperationAsync(HttpClient http, CancellationToken cancellationToken)
    {
        var open = _victims.Where(v => v.KillCommandId is null).ToList();
        var killing = _victims.Where(v => v.KillCommandId is not null).ToList();
        return random.Next(100) switch
        {
            < 14 => JoinVictimAsync(http, cancellationToken),
            < 22 => RegisterAsync(http, cancellationToken),
            < 30 => MintKeyAsync(http, cancellationToken),
            < 34 when _keys.Count > 0 => RevokeKeyAsync(http, Take(_keys), cancellationToken),
            < 50 => SteerAsync(http, cancellationToken),
            < 60 => MessageAsync(http, cancellationToken),
            < 75 => PollAndAckAsync(http, cancellationToken),
            < 82 when open.Count > 0 => LeaveAsync(http, Remove(Pick(open)), cancellationToken),
            < 88 when open.Count > 0 => ForceKillAsync(http, Remove(Pick(open)), cancellationToken),
            < 94 when open.Count > 0 => GracefulKillAsync(http, Pick(open), cancellationToken),
            < 100 when killing.Count > 0 => AckKillAsync(http, Remove(Pick(killing)), cancellationToken),
            _ => JoinVictimAsync(http, cancellationToken),
        };
    }

    private async Task JoinVictimAsync(HttpClient http, CancellationToken cancellationToken)
    {
        var agent = $"c{index}-v{_next++}";
        var reply = await SendAsync(http, HttpMethod.Post, "sessions", $$"""{"agent_id": "{{agent}}", "ttl": 600}""", null, cancellationToken);
        if (Expect(reply, HttpStatusCode.Created))
        {
            var session = reply.Json!.RootElement.GetProperty("session_id").GetString()!;
            ledger.Joins[session] = agent;
            _victims.Add(new Victim(agent, session));
        }
    }

    private async Task RegisterAsync(HttpClient http, CancellationToken cancellationToken)
    {
        var n = _next++;
        var (agent, specialization) = ($"c{index}-r{n}", $"spec-{index}-{n % 7}");
        var reply = await SendAsync(http, HttpMethod.Post, "registry", $$"""{"agent_id": "{{agent}}", "specialization": "{{specialization}}"}""", null, cancellationToken);
        if (Expect(reply, HttpStatusCode.Created))
        {
            ledger.Registrations[agent] = specialization;
        }
    }

    private async Task MintKeyAsync(HttpClient http, CancellationToken cancellationToken)
    {
        var reply = await SendAsync(http, HttpMethod.Post, "keys", $$"""{"scopes": ["read"], "name": "c{{index}}-k{{_next++}}"}""", null, cancellationToken);
        if (Expect(reply, HttpStatusCode.Created))
        {
            var key = reply.Json!.RootElement;
            var keyId = key.GetProperty("key_id").GetString()!;
            ledger.Keys[keyId] = key.GetProperty("session_key").GetString()!;
            _keys.Add(keyId);
        }
    }

    private async Task RevokeKeyAsync(HttpClient http, string keyId, CancellationToken cancellationToken)
    {
        // Until the answer comes, the key may be revoked or not: a crash now leaves it unknown, and unchecked.
        ledger.RevocationUnknown[keyId] = true;
        if (Expect(await SendAsync(http, HttpMethod.Delete, $"keys/{keyId}", null, null, cancellationToken), HttpStatusCode.OK))
        {
            ledger.Revoked[keyId] = true;
        }
        ledger.RevocationUnknown.TryRemove(keyId, out _);
    }

    private Task SteerAsync(HttpClient http, CancellationToken cancellationToken)
    {
        var label = $"c{index}-s{_next++}";
        return CommandAsync(http, "steer", $$"""{"agent_id": "{{Worker}}", "direction": "{{label}}", "queue_if_offline": true}""", label, cancellationToken);
    }

    private Task MessageAsync(HttpClient http, CancellationToken cancellationToken)
    {
        var label = $"c{index}-m{_next++}";
        return CommandAsync(http, $"agents/{Worker}/messages", $$"""{"text": "{{label}}", "queue_if_offline": true}""", label, cancellationToken);
    }

    /// <summary>A steer or message with an Idempotency-Key: when a crash cuts it off, it is sent again once the server is back.</summary>
    private async Task CommandAsync(HttpClient http, string path, string body, string label, CancellationToken cancellationToken)
    {
        var retry = new Retry(path, body, label, json => ledger.Commands[json.GetProperty("command_id").GetString()!] = (Worker, label));
        _retries.Add(retry);
        var reply = await SendAsync(http, HttpMethod.Post, path, body, label, cancellationToken);
        _retries.Remove(retry);
        if (Expect(reply, HttpStatusCode.OK))
        {
            retry.Answered(reply.Json!.RootElement);
        }
    }

    /// <summary>The worker reads its pending commands (a long poll that does not wait) and acks up to three of them.</summary>
    private async Task PollAndAckAsync(HttpClient http, CancellationToken cancellationToken)
    {
        var items = await PendingAsync(http, Worker, cancellationToken);
        if (items is null)
        {
            return;
        }
        foreach (var commandId in items.OrderBy(_ => random.Next()).Take(random.Next(4)))
        {
            await AckAsync(http, Worker, commandId, null, cancellationToken);
        }
    }

    /// <summary>Every command the agent has not acked yet, checked for order, duplicates and commands acked before.</summary>
    public async Task<List<string>?> PendingAsync(HttpClient http, string agent, CancellationToken cancellationToken)
    {
        var reply = await SendAsync(http, HttpMethod.Get, $"agents/{agent}/commands?limit=1000", null, null, cancellationToken);
        if (!Expect(reply, HttpStatusCode.OK))
        {
            return null;
        }
        var ids = new List<string>();
        long lastSequence = 0;
        foreach (var item in reply.Json!.RootElement.GetProperty("items").EnumerateArray())
        {
            var commandId = item.GetProperty("command_id").GetString()!;
            var sequence = item.GetProperty("sequence").GetInt64();
            if (ledger.Acked.ContainsKey(commandId))
            {
                ledger.DeliveredAfterAck.Enqueue($"{agent}: {commandId} (seq {sequence}) handed out after its ack was answered");
            }
            if (sequence <= lastSequence || ids.Contains(commandId))
            {
                ledger.DisorderedPolls.Enqueue($"{agent}: seq {sequence} after {lastSequence} ({commandId})");
            }
            if (!_handedOut.Add(commandId))
            {
                ledger.Redelivered(1);
            }
            lastSequence = sequence;
            ids.Add(commandId);
        }
        return ids;
    }

    private async Task AckAsync(HttpClient http, string agent, string commandId, string? killedSession, CancellationToken cancellationToken)
    {
        var retry = new Retry($"agents/{agent}/commands/{commandId}/ack", """{"status": "acked"}""", null, _ =>
        {
            ledger.Acked[commandId] = true;
            if (killedSession is not null)
            {
                ledger.Killed[killedSession] = true;
            }
        });
        _retries.Add(retry);
        var reply = await SendAsync(http, HttpMethod.Post, retry.Path, retry.Body, null, cancellationToken);
        _retries.Remove(retry);
        if (Expect(reply, HttpStatusCode.OK))
        {
            retry.Answered(reply.Json!.RootElement);
        }
    }

    private async Task LeaveAsync(HttpClient http, Victim victim, CancellationToken cancellationToken)
    {
        if (Expect(await SendAsync(http, HttpMethod.Delete, $"sessions/{victim.SessionId}", null, null, cancellationToken), HttpStatusCode.OK))
        {
            ledger.Left[victim.SessionId] = true;
        }
    }

    private async Task ForceKillAsync(HttpClient http, Victim victim, CancellationToken cancellationToken)
    {
        if (Expect(await SendAsync(http, HttpMethod.Delete, $"agents/{victim.AgentId}?force=true&cascade=false", null, null, cancellationToken), HttpStatusCode.OK))
        {
            ledger.Killed[victim.SessionId] = true;
        }
    }

    private async Task GracefulKillAsync(HttpClient http, Victim victim, CancellationToken cancellationToken)
    {
        // The victim leaves the pool until the answer says how the kill went: a kill cut off by a crash is not retried.
        _victims.Remove(victim);
        var reply = await SendAsync(http, HttpMethod.Delete, $"agents/{victim.AgentId}?cascade=false&grace_period=600", null, null, cancellationToken);
        if (Expect(reply, HttpStatusCode.OK))
        {
            var commandId = reply.Json!.RootElement.GetProperty("killed")[0].GetProperty("command_id").GetString()!;
            ledger.Commands[commandId] = (victim.AgentId, "kill");
            _victims.Add(victim with { KillCommandId = commandId });
        }
    }

    /// <summary>The victim reads its stream, finds the kill, and acks it: its session ends killed.</summary>
    private async Task AckKillAsync(HttpClient http, Victim victim, CancellationToken cancellationToken)
    {
        var pending = await PendingAsync(http, victim.AgentId, cancellationToken);
        if (pending is null)
        {
            return;
        }
        if (!pending.Contains(victim.KillCommandId!))
        {
            ledger.Unexpected.Enqueue($"{victim.AgentId}: its answered kill {victim.KillCommandId} is not among its pending commands [{string.Join(", ", pending)}]");
            return;
        }
        await AckAsync(http, victim.AgentId, victim.KillCommandId!, victim.SessionId, cancellationToken);
    }

    private async Task<Answer> SendAsync(HttpClient http, HttpMethod method, string path, string? json, string? idempotencyKey, CancellationToken cancellationToken, bool audited = true)
    {
        using var request = new HttpRequestMessage(method, Api + path)
        {
            Content = json is null ? null : new StringContent(json, Encoding.UTF8, "application/json"),
        };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }
        using var response = await http.SendAsync(request, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        var answer = new Answer(method, path, response.StatusCode, body, body.Length > 0 && body[0] == '{' ? JsonDocument.Parse(body) : null);
        if (audited && method != HttpMethod.Get && (int)response.StatusCode is >= 200 and < 300)
        {
            ledger.Answer(method.Method, "/" + Api + path.Split('?')[0]);
        }
        return answer;
    }

    private bool Expect(Answer answer, HttpStatusCode status)
    {
        if (answer.Status == status)
        {
            return true;
        }
        ledger.Unexpected.Enqueue($"{answer.Method} {answer.Path}: expected {(int)status}, got {(int)answer.Status} {answer.Body}");
        return false;
    }

    /// <summary>
    /// What a request to a server that was just SIGKILLed throws. A connection the kill resets between its connect and
    /// HttpClient reading its remote end point throws a bare <see cref="System.Net.Sockets.SocketException"/>
    /// ("Transport endpoint is not connected"), not wrapped in an <see cref="HttpRequestException"/>.
    /// </summary>
    public static bool IsCrash(Exception ex) =>
        ex is HttpRequestException or IOException or OperationCanceledException or System.Net.Sockets.SocketException;

    private T Pick<T>(List<T> items) => items[random.Next(items.Count)];

    private T Remove<T>(T item)
    {
        if (item is Victim victim)
        {
            _victims.Remove(victim);
        }
        return item;
    }

    private string Take(List<string> items)
    {
        var item = Pick(items);
        items.Remove(item);
        return item;
    }

    private sealed record Victim(string AgentId, string SessionId, string? KillCommandId = null);

    private sealed record Retry(string Path, string Body, string? IdempotencyKey, Action<JsonElement> Answered);

    private sealed record Answer(HttpMethod Method, string Path, HttpStatusCode Status, string Body, JsonDocument? Json);
}
