using Microsoft.Extensions.Logging.Abstractions;
using SessionMesh.Mesh;
using SessionMesh.Model;
using SessionMesh.Security;
using SessionMesh.Store.Sqlite;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Mesh;

/// <summary>
/// A replica's memory following the other replicas (<see cref="ReplicaSync"/>), driven by signals the test raises
/// itself, over a real store that plays the other replica's writes.
/// </summary>
public sealed class ReplicaSyncTests : IAsyncLifetime
{
    private static readonly DateTimeOffset s_now = DateTimeOffset.UtcNow;
    private static readonly SessionRecord s_ending = Open("s-ending", "ending");
    private static readonly SessionRecord s_living = Open("s-living", "living");

    private readonly TempDirectory _directory = new();
    private SqliteMeshStore _store = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _store = new SqliteMeshStore(Path.Combine(_directory.Path, SqliteMeshStore.DefaultFileName));
        await _store.MigrateAsync(Ct);
    }

    public async ValueTask DisposeAsync()
    {
        await _store.DisposeAsync();
        _directory.Dispose();
    }

    // Only the re-read can wake the stream: the test's signals do not wake every waiter at a resync, as a real link does.
    [Fact]
    public Task A_lease_ended_elsewhere_during_a_break_leaves_memory_at_the_resync_and_wakes_its_agents_stream() =>
        EndedElsewhereLeavesMemoryAndWakesItsStreamAsync(signals => signals.Resynchronise());

    // Its notification names the lease only: the stream here wakes on the agent's key, which only the re-read raises.
    [Fact]
    public Task A_lease_another_replica_ended_wakes_its_agents_stream_here_once_it_is_read() =>
        EndedElsewhereLeavesMemoryAndWakesItsStreamAsync(signals => signals.HearFromElsewhere(SignalKeys.Lease(s_ending.SessionId)));

    /// <summary>
    /// Another replica ends one of two open sessions without this one hearing of it; then <paramref name="learn"/> tells
    /// this replica what it missed: the ended lease leaves memory, the other stays, and the ended one's stream wakes.
    /// </summary>
    private async Task EndedElsewhereLeavesMemoryAndWakesItsStreamAsync(Action<TestReplicaSignals> learn)
    {
        var (leases, signals) = await TwoOpenSessionsAsync();
        using var _ = leases;
        await EndElsewhereAsync();
        var woken = signals.Next(SignalKeys.Agent("c1", "ending"));

        learn(signals);

        await woken.WaitAsync(TestTimeouts.Event, Ct);
        Assert.Null(leases.Find(s_ending.SessionId));
        Assert.NotNull(leases.Find(s_living.SessionId));
    }

    /// <summary>Two sessions open in the store and in this replica's memory, which follows the test's signals.</summary>
    private async Task<(LeaseTable Leases, TestReplicaSignals Signals)> TwoOpenSessionsAsync()
    {
        await using (var tx = await _store.BeginWriteAsync(Ct))
        {
            foreach (var session in new[] { s_ending, s_living })
            {
                await tx.UpsertAgentAsync(new AgentRecord("c1", session.AgentId, null, new Dictionary<string, string>(), s_now, s_now), Ct);
                await tx.InsertSessionAsync(session, Ct);
            }
            await tx.CommitAsync(Ct);
        }
        var leases = new LeaseTable(_store);
        leases.Load([s_ending, s_living]);
        var signals = new TestReplicaSignals();
        ReplicaSync.Attach(new RecentEvents(100), signals, _store, new KeyCache(_store), leases, NullLogger.Instance);
        return (leases, signals);
    }

    /// <summary>What another replica's kill of <c>ending</c> leaves in the store.</summary>
    private async Task EndElsewhereAsync()
    {
        await using var tx = await _store.BeginWriteAsync(Ct);
        await tx.UpdateSessionAsync(s_ending with { EndStatus = SessionStatus.Killed, EndedAt = s_now, EndReason = "killed elsewhere" }, Ct);
        await tx.CommitAsync(Ct);
    }

    private static SessionRecord Open(string sessionId, string agentId) =>
        new(sessionId, "c1", agentId, 300, s_now, s_now, s_now.AddSeconds(300), null, false, null);

    /// <summary>In-process signals whose link to the other replicas the test breaks and restores by hand.</summary>
    private sealed class TestReplicaSignals : IReplicaSignals
    {
        private readonly InProcessMeshSignals _local = new();

        public event Action<string>? NotifiedElsewhere;

        public event Action? Resynchronised;

        public void Resynchronise() => Resynchronised?.Invoke();

        public void HearFromElsewhere(string key)
        {
            NotifiedElsewhere?.Invoke(key);
            _local.Notify(key);
        }

        public Task Next(string key) => _local.Next(key);

        public CancellationToken NextCancellation(string key) => _local.NextCancellation(key);

        public void Notify(string key) => _local.Notify(key);

        public void Release(string key) => _local.Release(key);

        public IDisposable Listen(string key, Action? wake = null) => _local.Listen(key, wake);

        public bool HasListener(string key) => _local.HasListener(key);

        public void ForgetRemoteListeners(string key)
        {
        }
    }
}
