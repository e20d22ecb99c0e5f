using System.Collections.Concurrent;

namespace SessionMesh.Tests.Reliability;

/// <summary>
/// What the crash workload's clients were told: every write answered 2xx, as the server answered it. After the last
/// restart, the server must show each of them (<see cref="CrashChecks"/>); writes whose answer a crash cut off are
/// not in here, except steers, messages and acks, which the clients retry until they are answered.
/// </summary>
public sealed class CrashLedger
{
    /// <summary>Sessions of joins answered 201, by session id, with the agent.</summary>
    public ConcurrentDictionary<string, string> Joins { get; } = new();

    /// <summary>Sessions whose leave was answered: they must end <c>left</c>.</summary>
    public ConcurrentDictionary<string, bool> Left { get; } = new();

    /// <summary>Sessions whose forced kill, or the ack of whose graceful kill, was answered: they must end <c>killed</c>.</summary>
    public ConcurrentDictionary<string, bool> Killed { get; } = new();

    /// <summary>Registrations answered 201: agent id → specialization.</summary>
    public ConcurrentDictionary<string, string> Registrations { get; } = new();

    /// <summary>Keys minted with a 201: key id → secret.</summary>
    public ConcurrentDictionary<string, string> Keys { get; } = new();

    /// <summary>Keys whose revocation was answered.</summary>
    public ConcurrentDictionary<string, bool> Revoked { get; } = new();

    /// <summary>Keys whose revocation a crash cut off: revoked or not, either is right.</summary>
    public ConcurrentDictionary<string, bool> RevocationUnknown { get; } = new();

    /// <summary>Steers, messages and graceful kills answered 200: command id → (agent, what the request said).</summary>
    public ConcurrentDictionary<string, (string Agent, string Label)> Commands { get; } = new();

    /// <summary>Commands whose ack was answered 200: never handed out again.</summary>
    public ConcurrentDictionary<string, bool> Acked { get; } = new();

    /// <summary>
    /// Writes answered 2xx on their first attempt, by method and path, for the audit check: each of them changed
    /// something, so its audit entry committed with it.
    /// </summary>
    public ConcurrentDictionary<(string Method, string Path), int> Answered { get; } = new();

    /// <summary>Answers no write of the workload should get (a 5xx, an unexpected 4xx), with the body.</summary>
    public ConcurrentQueue<string> Unexpected { get; } = new();

    /// <summary>Acked commands a poll handed out again: must stay empty.</summary>
    public ConcurrentQueue<string> DeliveredAfterAck { get; } = new();

    /// <summary>Polls that handed out one command twice, or out of order: must stay empty.</summary>
    public ConcurrentQueue<string> DisorderedPolls { get; } = new();

    private long _redeliveries;

    /// <summary>Unacked commands handed out again after a crash or by a poll without a cursor (at least once: allowed).</summary>
    public long Redeliveries => Interlocked.Read(ref _redeliveries);

    public void Redelivered(int count) => Interlocked.Add(ref _redeliveries, count);

    public void Answer(string method, string path) => Answered.AddOrUpdate((method, path), 1, (_, n) => n + 1);

    /// <summary>How many writes were answered 2xx in all.</summary>
    public int WritesAnswered => Answered.Values.Sum();
}
