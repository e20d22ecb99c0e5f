using SessionMesh.Model;
using SessionMesh.Store;
using SessionMesh.Store.Sqlite;

namespace SessionMesh.Tests.Store;

/// <summary>
/// Group commit in the SQLite store: many callers' writes in one transaction and one fsync, each in its own
/// savepoint, each caller answered only once its batch is durable. To line writers up deterministically, a test
/// holds the first batch's commit in <see cref="SqliteMeshStore.BeforeBatchCommitAsync"/> while others queue. A riding
/// write (one nobody waits on) joins the next writer's batch rather than commit alone.
/// </summary>
public sealed class SqliteGroupCommitTests : IAsyncLifetime
{
    private static readonly DateTimeOffset s_now = new(2030, 6, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(20);

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "session-mesh-tests", Guid.NewGuid().ToString("N"));
    private readonly TaskCompletionSource _firstCommitEntered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _firstCommitGate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private SqliteMeshStore _store = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string FilePath => Path.Combine(_directory, SqliteMeshStore.DefaultFileName);

    public async ValueTask InitializeAsync()
    {
        // No age bound, so that a batch holds exactly the writers a test lines up.
        _store = new SqliteMeshStore(FilePath) { MaxBatchAge = TimeSpan.FromHours(1) };
        await _store.MigrateAsync(Ct);
    }

    public async ValueTask DisposeAsync()
    {
        _firstCommitGate.TrySetResult();
        await _store.DisposeAsync();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public async Task ConcurrentWriters_AllCommit_AreVisibleOnReturn_InFewerCommitsThanWriters()
    {
        const int Writers = 200;
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var writers = Enumerable.Range(0, Writers).Select(i => Task.Run(async () =>
        {
            await start.Task;
            var revision = await WriteAgentAsync($"a{i:D3}");
            // Visible to another connection as soon as the commit returned: it was committed before.
            Assert.NotNull(await _store.GetAgentAsync("c1", $"a{i:D3}", Ct));
            return revision;
        }, Ct)).ToArray();
        start.SetResult();
        var revisions = await Task.WhenAll(writers).WaitAsync(s_timeout, Ct);

        Assert.Equal(Writers, revisions.Distinct().Count());
        Assert.InRange(_store.BatchCommits, 1, Writers - 1);
        Assert.Equal(Writers, (await _store.ListAgentsAsync("c1", null, null, 1000, Ct)).Count);
        Assert.Equal(revisions.Order(), (await _store.ListEventsAsync(null, 0, 1000, Ct)).Select(e => e.Revision));

        await _store.DisposeAsync();
        await using var reopened = new SqliteMeshStore(FilePath);
        Assert.Equal(Writers, (await reopened.ListAgentsAsync("c1", null, null, 1000, Ct)).Count);
        Assert.Equal(Writers, (await reopened.ListEventsAsync(null, 0, 1000, Ct)).Count);
    }

    [Fact]
    public async Task WritersQueuedDuringACommit_ShareTheNextOne_AndNoneReturnsBeforeItsCommit()
    {
        var first = await WriteFirstHeldAsync();

        // The savepoint is released but the batch is not committed: the caller waits, readers see nothing.
        Assert.False(first.IsCompleted, "A commit returned before its batch was durable.");
        Assert.Null(await _store.GetAgentAsync("c1", "a0", Ct));
        var queued = Enumerable.Range(1, 10).Select(i => WriteAgentAsync($"a{i}")).ToArray();
        Assert.All(queued, writer => Assert.False(writer.IsCompleted));

        _firstCommitGate.SetResult();
        await first.WaitAsync(s_timeout, Ct);
        await Task.WhenAll(queued).WaitAsync(s_timeout, Ct);

        Assert.Equal(2, _store.BatchCommits);
        Assert.Equal(11, (await _store.ListAgentsAsync("c1", null, null, 100, Ct)).Count);
    }

    [Fact]
    public async Task AWriterThatFails_RollsBackAlone_WhileTheOthersOfItsBatchCommit()
    {
        var first = await WriteFirstHeldAsync();

        var before = WriteAgentAsync("a1");
        var failing = WriteAgentAsync("a2", _ => throw new InvalidOperationException("a rule read inside the transaction"));
        AgentRecord? seenAfter = null, rolledBackSeenAfter = null;
        var after = WriteAgentAsync("a3", async tx =>
        {
            // A later savepoint of the same batch sees what the earlier ones released, and nothing of the one rolled back.
            seenAfter = await tx.GetAgentAsync("c1", "a1", Ct);
            rolledBackSeenAfter = await tx.GetAgentAsync("c1", "a2", Ct);
        });
        _firstCommitGate.SetResult();

        await Task.WhenAll(first, before, after).WaitAsync(s_timeout, Ct);
        await Assert.ThrowsAsync<InvalidOperationException>(() => failing.WaitAsync(s_timeout, Ct));
        Assert.Equal(2, _store.BatchCommits);
        Assert.NotNull(seenAfter);
        Assert.Null(rolledBackSeenAfter);
        Assert.Equal(["a0", "a1", "a3"], (await _store.ListAgentsAsync("c1", null, null, 100, Ct)).Select(a => a.AgentId));
        Assert.Equal(["a0", "a1", "a3"], (await _store.ListEventsAsync(null, 0, 100, Ct)).Select(e => e.AgentId));
    }

    [Fact]
    public async Task AFailedBatchCommit_FailsEveryCallerOfTheBatch_AndTheStoreRecovers()
    {
        var first = await WriteFirstHeldAsync(thenBeforeCommit: call => call == 2 ? throw new IOException("the disk went away") : Task.CompletedTask);
        var batch = Enumerable.Range(1, 3).Select(i => WriteAgentAsync($"a{i}")).ToArray();
        _firstCommitGate.SetResult();

        await first.WaitAsync(s_timeout, Ct);
        foreach (var writer in batch)
        {
            var error = await Assert.ThrowsAsync<IOException>(() => writer.WaitAsync(s_timeout, Ct));
            Assert.Equal("the disk went away", error.Message);
        }
        Assert.Equal(["a0"], (await _store.ListAgentsAsync("c1", null, null, 100, Ct)).Select(a => a.AgentId));

        // The writer connection was reopened: the next write goes through, alone in its batch.
        await WriteAgentAsync("a4").WaitAsync(s_timeout, Ct);
        Assert.Equal(["a0", "a4"], (await _store.ListAgentsAsync("c1", null, null, 100, Ct)).Select(a => a.AgentId));
        Assert.Equal(["a0", "a4"], (await _store.ListEventsAsync(null, 0, 100, Ct)).Select(e => e.AgentId));
        Assert.Equal(2, _store.BatchCommits);
    }

    [Fact]
    public async Task AQueuedWriterThatIsCancelled_LeavesTheOthersToCommit()
    {
        var first = await WriteFirstHeldAsync();

        var next = WriteAgentAsync("a1");
        using var cancel = new CancellationTokenSource();
        var cancelled = _store.BeginWriteAsync(cancel.Token);
        await cancel.CancelAsync();
        _firstCommitGate.SetResult();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(s_timeout, Ct));
        await Task.WhenAll(first, next).WaitAsync(s_timeout, Ct);
        Assert.Equal(["a0", "a1"], (await _store.ListAgentsAsync("c1", null, null, 100, Ct)).Select(a => a.AgentId));
    }

    [Fact]
    public async Task ARidingWrite_WaitsForTheNextWritersBatch_AndCommitsInItsOneFsync()
    {
        var rider = RideAgentAsync("rider", TimeSpan.FromHours(1), Ct);
        Assert.False(rider.IsCompleted, "A rider committed without waiting for a batch.");
        Assert.Null(await _store.GetAgentAsync("c1", "rider", Ct));

        var writer = WriteAgentAsync("writer");

        await Task.WhenAll(rider, writer).WaitAsync(s_timeout, Ct);
        Assert.Equal(1, _store.BatchCommits);
        Assert.Equal(["rider", "writer"], (await _store.ListAgentsAsync("c1", null, null, 100, Ct)).Select(a => a.AgentId));
    }

    [Fact]
    public async Task ARidingWrite_OnAQuietStore_CommitsAloneOnceItsPatienceIsOut()
    {
        await RideAgentAsync("rider", TimeSpan.FromMilliseconds(20), Ct).WaitAsync(s_timeout, Ct);

        Assert.Equal(1, _store.BatchCommits);
        await _store.DisposeAsync();
        await using var reopened = new SqliteMeshStore(FilePath);
        Assert.NotNull(await reopened.GetAgentAsync("c1", "rider", Ct));
    }

    [Fact]
    public async Task ARidingWrite_DuringACommit_RidesInTheBatchOfTheWritersQueuedBehindIt()
    {
        var first = await WriteFirstHeldAsync();

        // The held batch is committing: no batch is open, so the rider waits for the next one, which a0's successors form.
        var rider = RideAgentAsync("rider", TimeSpan.FromHours(1), Ct);
        var next = WriteAgentAsync("a1");
        _firstCommitGate.SetResult();

        await Task.WhenAll(first, rider, next).WaitAsync(s_timeout, Ct);
        Assert.Equal(2, _store.BatchCommits);
        Assert.Equal(["a0", "a1", "rider"], (await _store.ListAgentsAsync("c1", null, null, 100, Ct)).Select(a => a.AgentId));
    }

    [Fact]
    public async Task RidersAndWritersInterleaved_AllCommit_NoneWaitsForever()
    {
        const int Writers = 150;
        const int Riders = 50;
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var writers = Enumerable.Range(0, Writers).Select(i => Task.Run(async () =>
        {
            await start.Task;
            await WriteAgentAsync($"w{i:D3}");
        }, Ct));
        // Patience from none to more than the run takes: riders that wait, ride, time out, or find a batch open.
        var riders = Enumerable.Range(0, Riders).Select(i => Task.Run(async () =>
        {
            await start.Task;
            await RideAgentAsync($"r{i:D3}", TimeSpan.FromMilliseconds(i % 5 * 10), Ct);
        }, Ct));
        var all = writers.Concat(riders).ToArray();
        start.SetResult();

        await Task.WhenAll(all).WaitAsync(s_timeout, Ct);
        Assert.Equal(Writers + Riders, (await _store.ListAgentsAsync("c1", null, null, 1000, Ct)).Count);
        Assert.InRange(_store.BatchCommits, 1, Writers + Riders - 1);
        // The queue count is back to zero: a writer counted but never coming would keep this commit waiting for it.
        await WriteAgentAsync("after").WaitAsync(s_timeout, Ct);
    }

    [Fact]
    public async Task ARidingWrite_Cancelled_WhileWaiting_LeavesTheNextWriterAlone()
    {
        using var cancel = new CancellationTokenSource();
        var rider = RideAgentAsync("rider", TimeSpan.FromHours(1), cancel.Token);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => rider.WaitAsync(s_timeout, Ct));
        await WriteAgentAsync("writer").WaitAsync(s_timeout, Ct);
        Assert.Equal(1, _store.BatchCommits);
        Assert.Equal(["writer"], (await _store.ListAgentsAsync("c1", null, null, 100, Ct)).Select(a => a.AgentId));
    }

    /// <summary>
    /// Writes agent a0 alone and returns its write once its batch's commit is held at <see cref="_firstCommitGate"/>,
    /// holding the write lock, so that writers started next queue for the batch after it. Later commits run
    /// <paramref name="thenBeforeCommit"/> with their number (2 for the second).
    /// </summary>
    private async Task<Task<long>> WriteFirstHeldAsync(Func<int, Task>? thenBeforeCommit = null)
    {
        var calls = 0;
        _store.BeforeBatchCommitAsync = async () =>
        {
            var call = Interlocked.Increment(ref calls);
            if (call == 1)
            {
                _firstCommitEntered.TrySetResult();
                await _firstCommitGate.Task;
            }
            else if (thenBeforeCommit is not null)
            {
                await thenBeforeCommit(call);
            }
        };
        var first = WriteAgentAsync("a0");
        await _firstCommitEntered.Task.WaitAsync(s_timeout, Ct);
        return first;
    }

    /// <summary>
    /// One write: an agent and its event, plus <paramref name="more"/>. Called without awaiting, it queues on the
    /// write lock before returning, so writers called in a row enter the store in that order.
    /// </summary>
    private async Task<long> WriteAgentAsync(string agentId, Func<IMeshWriteTransaction, Task>? more = null) =>
        await WriteAgentAsync(agentId, _store.BeginWriteAsync(Ct), more);

    /// <summary>The write of <see cref="WriteAgentAsync(string, Func{IMeshWriteTransaction, Task}?)"/> as a rider.</summary>
    private async Task<long> RideAgentAsync(string agentId, TimeSpan patience, CancellationToken cancellationToken) =>
        await WriteAgentAsync(agentId, _store.BeginRidingWriteAsync(patience, cancellationToken));

    private static async Task<long> WriteAgentAsync(string agentId, Task<IMeshWriteTransaction> begin, Func<IMeshWriteTransaction, Task>? more = null)
    {
        await using var tx = await begin;
        await tx.UpsertAgentAsync(new AgentRecord("c1", agentId, null, new Dictionary<string, string>(), s_now, s_now), Ct);
        var revision = await tx.AppendEventAsync("c1", "agent.registered", s_now, agentId, null, null, Ct);
        if (more is not null)
        {
            await more(tx);
        }
        await tx.CommitAsync(Ct);
        return revision;
    }

    private static SessionRecord Session(string sessionId, string agentId) =>
        new(sessionId, "c1", agentId, 30, StartedAt: s_now, LastSeen: s_now, ExpiresAt: s_now.AddSeconds(30), Load: null, Idle: false,
            MaxRuntime: null, EndStatus: null, EndedAt: null, EndReason: null);
}
