using System.Net;
using System.Text.Json;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Reliability;

/// <summary>
/// Compares what the crash workload was told (<see cref="CrashLedger"/>) with what the restarted server shows:
/// every acknowledged write present, commands neither lost nor duplicated nor handed out after their ack, an audit
/// entry for every write that changed something, and event revisions strictly increasing.
/// </summary>
public sealed class CrashChecks(HttpClient http, CrashLedger ledger)
{
    private const string Api = "api/session-mesh/";

    public List<string> Failures { get; } = [];

    public int Checked { get; private set; }

    public int Lost { get; private set; }

    public int Duplicated { get; private set; }

    public int AuditEntries { get; private set; }

    public int Events { get; private set; }

    public async Task RunAsync(IEnumerable<CrashClient> clients)
    {
        await SessionsAsync();
        await RegistrationsAsync();
        await KeysAsync();
        await CommandsAsync(clients);
        await AuditAsync();
        await EventsAsync();
    }

    private async Task SessionsAsync()
    {
        foreach (var (sessionId, agent) in ledger.Joins)
        {
            var reply = await http.GetReplyAsync($"{Api}sessions/{sessionId}");
            var expected = ledger.Left.ContainsKey(sessionId) ? "left" : ledger.Killed.ContainsKey(sessionId) ? "killed" : null;
            if (reply.Status != HttpStatusCode.OK)
            {
                Lose($"join of {agent}: session {sessionId} is {(int)reply.Status}");
            }
            else if (expected is not null && reply.Json.GetProperty("status").GetString() != expected)
            {
                Lose($"session {sessionId} of {agent} should be {expected}: {reply.Body}");
            }
            Checked += expected is null ? 1 : 2;
        }
    }

    private async Task RegistrationsAsync()
    {
        foreach (var (agent, specialization) in ledger.Registrations)
        {
            var reply = await http.GetReplyAsync($"{Api}agents/{agent}");
            if (reply.Status != HttpStatusCode.OK
                || !reply.Json.GetProperty("specializations").EnumerateArray().Any(s => s.GetProperty("name").GetString() == specialization))
            {
                Lose($"registration of {specialization} for {agent}: {(int)reply.Status} {reply.Body}");
            }
            Checked++;
        }
    }

    private async Task KeysAsync()
    {
        foreach (var (keyId, secret) in ledger.Keys.Where(k => !ledger.RevocationUnknown.ContainsKey(k.Key)))
        {
            using var keyClient = new HttpClient { BaseAddress = http.BaseAddress, Timeout = TestTimeouts.Request };
            keyClient.DefaultRequestHeaders.Authorization = new("Bearer", secret);
            var reply = await keyClient.GetReplyAsync($"{Api}keys/self");
            var revoked = ledger.Revoked.ContainsKey(keyId);
            if (revoked ? reply.Status != HttpStatusCode.Unauthorized || reply.Code != "key_revoked" : reply.Status != HttpStatusCode.OK)
            {
                Lose($"key {keyId} ({(revoked ? "revoked" : "minted")}) answers {(int)reply.Status} {reply.Body}");
            }
            Checked += revoked ? 2 : 1;
        }
    }

    /// <summary>
    /// Each answered command is where its answers left it (acked, or still pending), and each worker's pending
    /// commands are exactly the answered ones it has not acked: one missing is lost, one extra a duplicate.
    /// </summary>
    private async Task CommandsAsync(IEnumerable<CrashClient> clients)
    {
        foreach (var (commandId, (agent, label)) in ledger.Commands)
        {
            var reply = await http.GetReplyAsync($"{Api}commands/{commandId}");
            var status = reply.Status == HttpStatusCode.OK ? reply.Json.GetProperty("status").GetString() : null;
            var acked = ledger.Acked.ContainsKey(commandId);
            if (status is null || (acked ? status != "acked" : status is not ("queued" or "delivered")))
            {
                Lose($"{label} {commandId} for {agent} ({(acked ? "acked" : "pending")}): {(int)reply.Status} {reply.Body}");
            }
            Checked += acked ? 2 : 1;
        }
        foreach (var client in clients)
        {
            var pending = await client.PendingAsync(http, client.Worker, TestContext.Current.CancellationToken) ?? [];
            var expected = ledger.Commands.Where(c => c.Value.Agent == client.Worker && !ledger.Acked.ContainsKey(c.Key)).Select(c => c.Key).ToHashSet();
            foreach (var missing in expected.Except(pending))
            {
                Lose($"{client.Worker}: answered command {missing} ({ledger.Commands[missing].Label}) is not pending");
            }
            foreach (var extra in pending.Except(expected))
            {
                Duplicated++;
                Failures.Add($"{client.Worker}: pending command {extra} was never answered to a steer or message (a duplicate?)");
            }
        }
    }

    /// <summary>Audit entries (2xx) per method and path are at least the writes answered 2xx that changed something.</summary>
    private async Task AuditAsync()
    {
        var counts = new Dictionary<(string, string), int>();
        string? cursor = null;
        do
        {
            var page = (await http.GetReplyAsync($"{Api}audit?limit=1000{(cursor is null ? "" : "&cursor=" + cursor)}")).Expect(HttpStatusCode.OK).Json;
            foreach (var entry in page.GetProperty("items").EnumerateArray())
            {
                AuditEntries++;
                if (entry.GetProperty("status").GetInt32() is >= 200 and < 300)
                {
                    var key = (entry.GetProperty("method").GetString()!, entry.GetProperty("path").GetString()!);
                    counts[key] = counts.GetValueOrDefault(key) + 1;
                }
            }
            cursor = page.TryGetProperty("next_cursor", out var next) && next.ValueKind == JsonValueKind.String ? next.GetString() : null;
        }
        while (cursor is not null);
        foreach (var ((method, path), answered) in ledger.Answered)
        {
            var recorded = counts.GetValueOrDefault((method, path));
            if (recorded < answered)
            {
                Lose($"audit: {answered} answered {method} {path}, {recorded} entries");
            }
            Checked += answered;
        }
    }

    /// <summary>The whole event log: revisions strictly increasing, and an event for every answered join, command and ack.</summary>
    private async Task EventsAsync()
    {
        var joined = new HashSet<string>();
        var queued = new HashSet<string>();
        var acked = new HashSet<string>();
        long last = 0;
        while (true)
        {
            var items = (await http.GetReplyAsync($"{Api}events?since={last}&limit=1000")).Expect(HttpStatusCode.OK).Json.GetProperty("items");
            if (items.GetArrayLength() == 0)
            {
                break;
            }
            foreach (var e in items.EnumerateArray())
            {
                Events++;
                var revision = e.GetProperty("revision").GetInt64();
                if (revision <= last)
                {
                    Failures.Add($"event revision {revision} after {last}");
                }
                last = revision;
                var type = e.GetProperty("type").GetString();
                var data = e.GetProperty("data");
                if (type == "session.joined")
                {
                    joined.Add(data.GetProperty("session_id").GetString()!);
                }
                else if (type is "command.queued" or "command.acked")
                {
                    (type == "command.queued" ? queued : acked).Add(data.GetProperty("command_id").GetString()!);
                }
            }
        }
        foreach (var session in ledger.Joins.Keys.Where(s => !joined.Contains(s)))
        {
            Lose($"no session.joined event for {session}");
        }
        foreach (var command in ledger.Commands.Keys.Where(c => !queued.Contains(c)))
        {
            Lose($"no command.queued event for {command}");
        }
        foreach (var command in ledger.Acked.Keys.Where(c => !acked.Contains(c)))
        {
            Lose($"no command.acked event for {command}");
        }
        Checked += ledger.Joins.Count + ledger.Commands.Count + ledger.Acked.Count;
    }

    private void Lose(string what)
    {
        Lost++;
        Failures.Add(what);
    }
}
