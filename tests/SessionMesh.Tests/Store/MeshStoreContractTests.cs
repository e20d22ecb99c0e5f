using System.Text.Json;
using SessionMesh.Model;
using SessionMesh.Store;

namespace SessionMesh.Tests.Store;

/// <summary>
/// The store contract, run against every <see cref="IMeshStore"/>: a derived class supplies a fresh
/// migrated store per test. Everything goes through the interfaces, so the same tests hold each
/// backend to the same semantics. Times are whole milliseconds around a fixed <see cref="Now"/>.
/// </summary>
public abstract partial class MeshStoreContractTests : IAsyncLifetime
{
    protected static readonly DateTimeOffset Now = new(2030, 6, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(10);

    private IMeshStore? _store;

    protected IMeshStore Store => _store ?? throw new InvalidOperationException("The store is closed.");

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A fresh, empty, migrated store; the test owns and disposes it.</summary>
    protected abstract Task<IMeshStore> CreateStoreAsync(CancellationToken cancellationToken);

    /// <summary>Another store over the same data as the one <see cref="CreateStoreAsync"/> made, not migrated.</summary>
    protected abstract Task<IMeshStore> ReopenStoreAsync(CancellationToken cancellationToken);

    public async ValueTask InitializeAsync() => _store = await CreateStoreAsync(Ct);

    public virtual async ValueTask DisposeAsync()
    {
        await CloseStoreAsync();
        GC.SuppressFinalize(this);
    }

    // ---- Store basics, migrations, durability ----

    [Fact]
    public async Task Ping_AnswersTrue() => Assert.True(await Store.PingAsync(Ct));

    [Fact]
    public async Task Migrate_IsIdempotent_AndKeepsData()
    {
        await Store.MigrateAsync(Ct);
        await WriteAsync(tx => tx.UpsertAgentAsync(Agent("a1"), Ct));
        await Store.MigrateAsync(Ct);
        Assert.NotNull(await Store.GetAgentAsync("c1", "a1", Ct));

        await CloseStoreAsync();
        await using var reopened = await ReopenStoreAsync(Ct);
        await reopened.MigrateAsync(Ct);
        await reopened.MigrateAsync(Ct);
        Assert.NotNull(await reopened.GetAgentAsync("c1", "a1", Ct));
        await using (var tx = await reopened.BeginWriteAsync(Ct))
        {
            await tx.UpsertAgentAsync(Agent("a2"), Ct);
            await tx.CommitAsync(Ct);
        }
        Assert.NotNull(await reopened.GetAgentAsync("c1", "a2", Ct));
    }

    [Fact]
    public async Task CommittedWrites_SurviveClosingAndReopening()
    {
        var agent = Agent("a1", parentId: "p", labels: new() { ["team"] = "red", ["région"] = "nord" });
        var session = Session("s1", "a1", expiresAt: Now.AddSeconds(10), load: 0.5, idle: true) with { MaxRuntime = 600, StaleNotified = true };
        var specialization = Specialization("a1", "vision", tags: ["gpu", "fast"]);
        var key = Key("k1");
        var audit = new AuditRecord(0, Now, "k1", "c1", "POST", "/api/session-mesh/steer", 200, null);
        var command = Command("cmd-1", "a1", 1, status: CommandStatus.Delivered, deadlineAt: Now.AddSeconds(30), idempotencyKey: "idem") with { Payload = Json("""{"x":1}""") };
        long revision = 0;
        await WriteAsync(async tx =>
        {
            await tx.UpsertAgentAsync(agent, Ct);
            await tx.InsertSessionAsync(session, Ct);
            await tx.UpsertSpecializationAsync(specialization, Ct);
            await tx.UpsertKeyAsync(key, Ct);
            revision = await tx.AppendEventAsync("c1", "session.joined", Now, "a1", "s1", Json("""{"ttl":30}"""), Ct);
            await tx.AppendAuditAsync(audit, Ct);
            await tx.InsertCommandAsync(command, Ct);
        });

        await CloseStoreAsync();
        await using var reopened = await ReopenStoreAsync(Ct);

        AssertAgent(agent, await reopened.GetAgentAsync("c1", "a1", Ct));
        Assert.Equal(session, await reopened.GetSessionAsync("s1", Ct));
        AssertSpecialization(specialization, Assert.Single(await reopened.GetSpecializationsAsync("c1", ["a1"], Ct)));
        AssertKey(key, await reopened.GetKeyAsync("k1", Ct));
        var stored = Assert.Single(await reopened.ListEventsAsync(null, 0, 10, Ct));
        Assert.Equal(revision, stored.Revision);
        Assert.Equal(30, stored.Data!.Value.GetProperty("ttl").GetInt32());
        Assert.Equal(audit with { Id = 0 }, Assert.Single(await reopened.ListAuditAsync(null, null, 10, Ct)) with { Id = 0 });
        AssertCommand(command, await reopened.GetCommandAsync("cmd-1", Ct));
        Assert.Equal(revision, await reopened.GetLatestRevisionAsync(Ct));
        await using var tx = await reopened.BeginWriteAsync(Ct);
        Assert.Equal(2, await tx.NextCommandSequenceAsync("c1", "a1", Ct));
        AssertCommand(command, await tx.FindCommandByIdempotencyKeyAsync("k-root", "idem", Ct));
    }

    // ---- Transactions ----

    [Fact]
    public async Task DisposingWithoutCommit_RollsBackEverything()
    {
        await using (var tx = await Store.BeginWriteAsync(Ct))
        {
            await tx.UpsertAgentAsync(Agent("a1"), Ct);
            await tx.InsertSessionAsync(Session("s1", "a1", Now.AddSeconds(10)), Ct);
            await tx.UpsertSpecializationAsync(Specialization("a1", "vision"), Ct);
            await tx.UpsertKeyAsync(Key("k1"), Ct);
            await tx.AppendEventAsync("c1", "session.joined", Now, "a1", "s1", null, Ct);
            await tx.AppendAuditAsync(new AuditRecord(0, Now, "k1", "c1", "POST", "/x", 201, null), Ct);
            // The transaction sees its own writes.
            Assert.NotNull(await tx.GetAgentAsync("c1", "a1", Ct));
            Assert.NotNull(await tx.GetSessionAsync("s1", Ct));
        }

        Assert.Null(await Store.GetAgentAsync("c1", "a1", Ct));
        Assert.Null(await Store.GetSessionAsync("s1", Ct));
        Assert.Empty(await Store.GetSpecializationsAsync("c1", ["a1"], Ct));
        Assert.Null(await Store.GetKeyAsync("k1", Ct));
        Assert.Empty(await Store.ListEventsAsync(null, 0, 10, Ct));
        Assert.Empty(await Store.ListAuditAsync(null, null, 10, Ct));

        // The write lock was released: the next write goes through.
        await WriteAsync(tx => tx.UpsertAgentAsync(Agent("a2"), Ct));
        Assert.NotNull(await Store.GetAgentAsync("c1", "a2", Ct));
    }

    [Fact]
    public async Task Writers_AreSerialised()
    {
        await using var first = await Store.BeginWriteAsync(Ct);
        var second = Store.BeginWriteAsync(Ct);
        await Task.Yield();
        Assert.False(second.IsCompleted, "A second writer started while the first was open.");
        await first.UpsertAgentAsync(Agent("a1"), Ct);
        Assert.False(second.IsCompleted, "A second writer started before the first committed.");

        // A store may group commits: the first commit may return only once the writer queued behind it is done,
        // so it is awaited after the second writer ends.
        var committed = first.CommitAsync(Ct);
        await using (var next = await second.WaitAsync(s_timeout, Ct))
        {
            Assert.NotNull(await next.GetAgentAsync("c1", "a1", Ct));
        }
        await committed.WaitAsync(s_timeout, Ct);
        Assert.NotNull(await Store.GetAgentAsync("c1", "a1", Ct));
    }

    [Fact]
    public async Task ARidingWrite_JoinsTheNextWrite_OrCommitsAloneOnceItsPatienceIsOut()
    {
        var rider = RideAsync("rider", TimeSpan.FromHours(1));
        Assert.False(rider.IsCompleted, "A riding write committed before any other write began.");
        await WriteAsync(tx => tx.UpsertAgentAsync(Agent("writer"), Ct));
        await rider.WaitAsync(s_timeout, Ct);
        await RideAsync("alone", TimeSpan.FromMilliseconds(20)).WaitAsync(s_timeout, Ct);

        await CloseStoreAsync();
        await using var reopened = await ReopenStoreAsync(Ct);
        Assert.Equal(["alone", "rider", "writer"], (await reopened.ListAgentsAsync("c1", null, null, 100, Ct)).Select(a => a.AgentId));
    }

    private async Task RideAsync(string agentId, TimeSpan patience)
    {
        await using var tx = await Store.BeginRidingWriteAsync(patience, Ct);
        await tx.UpsertAgentAsync(Agent(agentId), Ct);
        await tx.CommitAsync(Ct);
    }

    [Fact]
    public async Task ConcurrentWritesLeaseCheckpointsAndReads_AllSucceed()
    {
        const int Agents = 16;
        await SeedSessionsAsync([.. Enumerable.Range(0, Agents).Select(i => Session($"s{i:D2}", $"a{i:D2}", Now.AddSeconds(10)))]);

        var work = Enumerable.Range(0, Agents).Select(i => Task.Run(async () =>
        {
            for (var round = 1; round <= 5; round++)
            {
                await WriteAsync(tx => tx.AppendEventAsync("c1", "agent.registered", Now, $"a{i:D2}", null, null, Ct));
                var renewed = Session($"s{i:D2}", $"a{i:D2}", Now.AddSeconds(round + 30), load: round / 10.0);
                await WriteAsync(async tx => Assert.Equal(1, await tx.UpdateLeasesAsync([renewed], Ct)));
                Assert.NotEmpty(await Store.ListSessionsAsync(new SessionQuery("c1", StatusFilter.Alive, Now, 5), Ct));
            }
        }, Ct));
        await Task.WhenAll(work).WaitAsync(s_timeout, Ct);

        Assert.Equal(Agents * 5, (await Store.ListEventsAsync(null, 0, 1000, Ct)).Count);
        var sessions = await Store.ListSessionsAsync(new SessionQuery("c1", StatusFilter.Alive, Now.AddSeconds(30), 100), Ct);
        Assert.Equal(Agents, sessions.Count);
        Assert.All(sessions, s => Assert.Equal((Now.AddSeconds(35), 0.5), (s.ExpiresAt, s.Load)));
    }

    [Fact]
    public async Task Events_GetStrictlyIncreasingRevisions_AcrossTransactions()
    {
        long r1 = 0, r2 = 0, r3 = 0;
        await WriteAsync(async tx =>
        {
            r1 = await tx.AppendEventAsync("c1", "session.joined", Now, "a1", "s1", null, Ct);
            r2 = await tx.AppendEventAsync("c2", "key.created", Now.AddSeconds(1), null, null, Json("""{"key_id":"k1","n":[1,2]}"""), Ct);
        });
        await WriteAsync(async tx => r3 = await tx.AppendEventAsync("c1", "session.left", Now.AddSeconds(2), "a1", "s1", null, Ct));
        await using (var rolledBack = await Store.BeginWriteAsync(Ct))
        {
            await rolledBack.AppendEventAsync("c1", "agent.registered", Now, "a9", null, null, Ct);
        }
        long r4 = 0;
        await WriteAsync(async tx => r4 = await tx.AppendEventAsync("c1", "session.expired", Now.AddSeconds(3), "a1", "s1", null, Ct));

        Assert.True(r1 < r2 && r2 < r3 && r3 < r4, $"Revisions not increasing: {r1}, {r2}, {r3}, {r4}");

        var all = await Store.ListEventsAsync(null, 0, 100, Ct);
        Assert.Equal([r1, r2, r3, r4], all.Select(e => e.Revision));
        var keyCreated = all[1];
        Assert.Equal(("c2", "key.created", Now.AddSeconds(1), (string?)null, (string?)null), (keyCreated.Cluster, keyCreated.Type, keyCreated.At, keyCreated.AgentId, keyCreated.SessionId));
        Assert.Equal("k1", keyCreated.Data!.Value.GetProperty("key_id").GetString());
        Assert.Equal(2, keyCreated.Data!.Value.GetProperty("n")[1].GetInt32());
        Assert.Null(all[0].Data);
        Assert.Equal(("c1", "session.joined", Now, "a1", "s1"), (all[0].Cluster, all[0].Type, all[0].At, all[0].AgentId, all[0].SessionId));

        Assert.Equal([r1, r3, r4], (await Store.ListEventsAsync("c1", 0, 100, Ct)).Select(e => e.Revision));
        Assert.Equal([r3], (await Store.ListEventsAsync(null, r2, 1, Ct)).Select(e => e.Revision));
        Assert.Equal([r4], (await Store.ListEventsAsync("c1", r3, 100, Ct)).Select(e => e.Revision));
        Assert.Empty(await Store.ListEventsAsync(null, r4, 100, Ct));
    }

    // ---- Agents ----

    [Fact]
    public async Task Agents_UpsertGetAndReplace()
    {
        var original = Agent("a1", parentId: "p1", labels: new() { ["team"] = "red" });
        await WriteAsync(async tx =>
        {
            Assert.Null(await tx.GetAgentAsync("c1", "a1", Ct));
            await tx.UpsertAgentAsync(original, Ct);
            AssertAgent(original, await tx.GetAgentAsync("c1", "a1", Ct));
        });
        AssertAgent(original, await Store.GetAgentAsync("c1", "a1", Ct));
        Assert.Null(await Store.GetAgentAsync("c2", "a1", Ct));

        var replaced = original with { ParentId = null, Labels = new Dictionary<string, string> { ["env"] = "prod" }, UpdatedAt = Now.AddMinutes(1) };
        await WriteAsync(tx => tx.UpsertAgentAsync(replaced, Ct));
        AssertAgent(replaced, await Store.GetAgentAsync("c1", "a1", Ct));
    }

    [Fact]
    public async Task Agents_ListPagesByIdWithinCluster_OptionallyByParent()
    {
        await WriteAsync(async tx =>
        {
            foreach (var agent in new[] { Agent("b"), Agent("a"), Agent("d", parentId: "a"), Agent("c", parentId: "a"), Agent("e", parentId: "b"), Agent("z", cluster: "c2") })
            {
                await tx.UpsertAgentAsync(agent, Ct);
            }
        });

        Assert.Equal(["a", "b", "c", "d", "e"], AgentIds(await Store.ListAgentsAsync("c1", null, null, 100, Ct)));
        Assert.Equal(["a", "b"], AgentIds(await Store.ListAgentsAsync("c1", null, null, 2, Ct)));
        Assert.Equal(["c", "d"], AgentIds(await Store.ListAgentsAsync("c1", null, "b", 2, Ct)));
        Assert.Equal(["e"], AgentIds(await Store.ListAgentsAsync("c1", null, "d", 2, Ct)));
        Assert.Empty(await Store.ListAgentsAsync("c1", null, "e", 2, Ct));
        Assert.Equal(["c", "d"], AgentIds(await Store.ListAgentsAsync("c1", "a", null, 100, Ct)));
        Assert.Equal(["d"], AgentIds(await Store.ListAgentsAsync("c1", "a", "c", 100, Ct)));
        Assert.Equal(["z"], AgentIds(await Store.ListAgentsAsync("c2", null, null, 100, Ct)));
    }

    [Fact]
    public async Task Agents_GetManyAndChildren()
    {
        await WriteAsync(async tx =>
        {
            foreach (var agent in new[] { Agent("p1"), Agent("p2"), Agent("c1", parentId: "p1"), Agent("c2", parentId: "p1"), Agent("c3", parentId: "p2"), Agent("g1", parentId: "c1"), Agent("x", parentId: "p1", cluster: "c2") })
            {
                await tx.UpsertAgentAsync(agent, Ct);
            }
        });

        Assert.Equal(["c3", "p1"], AgentIds(await Store.GetAgentsAsync("c1", ["p1", "missing", "c3"], Ct)).Order());
        Assert.Empty(await Store.GetAgentsAsync("c1", [], Ct));
        Assert.Equal(["c1", "c2", "c3"], AgentIds(await Store.GetChildrenAsync("c1", ["p1", "p2"], Ct)).Order());
        Assert.Equal(["g1"], AgentIds(await Store.GetChildrenAsync("c1", ["c1"], Ct)));
        Assert.Empty(await Store.GetChildrenAsync("c1", ["g1"], Ct));
        Assert.Empty(await Store.GetChildrenAsync("c1", [], Ct));
        Assert.Equal(["x"], AgentIds(await Store.GetChildrenAsync("c2", ["p1"], Ct)));
    }

    // ---- Sessions: writes ----

    [Fact]
    public async Task Sessions_InsertGetUpdate_AndOpenSessionOfAgent()
    {
        var session = Session("s1", "a1", Now.AddSeconds(30), load: 0.25) with { MaxRuntime = 120 };
        await WriteAsync(async tx =>
        {
            await tx.UpsertAgentAsync(Agent("a1"), Ct);
            Assert.Null(await tx.GetOpenSessionAsync("c1", "a1", Ct));
            await tx.InsertSessionAsync(session, Ct);
            Assert.Equal(session, await tx.GetOpenSessionAsync("c1", "a1", Ct));
            Assert.Null(await tx.GetOpenSessionAsync("c2", "a1", Ct));
        });
        Assert.Equal(session, await Store.GetSessionAsync("s1", Ct));
        Assert.Null(await Store.GetSessionAsync("missing", Ct));

        // Superseding: end the old lease, then open a new one.
        var ended = session with { EndStatus = SessionStatus.Superseded, EndedAt = Now.AddSeconds(5), EndReason = "rejoined", LastSeen = Now.AddSeconds(4), Load = null, Idle = true, StaleNotified = true };
        var next = Session("s2", "a1", Now.AddSeconds(35));
        await WriteAsync(async tx =>
        {
            await tx.UpdateSessionAsync(ended, Ct);
            await tx.InsertSessionAsync(next, Ct);
            Assert.Equal(ended, await tx.GetSessionAsync("s1", Ct));
            Assert.Equal(next, await tx.GetOpenSessionAsync("c1", "a1", Ct));
        });
        Assert.Equal(ended, await Store.GetSessionAsync("s1", Ct));
        Assert.Equal(next, await Store.GetSessionAsync("s2", Ct));
    }

    [Fact]
    public async Task Sessions_AnAgentNeverHasTwoOpenSessions_TheSecondIsRefusedWithItsWrite()
    {
        await SeedSessionsAsync(Session("s1", "a1", Now.AddSeconds(30)));
        await using (var tx = await Store.BeginWriteAsync(Ct))
        {
            await tx.UpsertSpecializationAsync(Specialization("a1", "vision"), Ct);
            await Assert.ThrowsAnyAsync<Exception>(() => tx.InsertSessionAsync(Session("s2", "a1", Now.AddSeconds(40)), Ct));
        }

        Assert.Null(await Store.GetSessionAsync("s2", Ct));
        Assert.Empty(await Store.GetSpecializationsAsync("c1", ["a1"], Ct));
        Assert.Equal(["s1"], SessionIds(await Store.GetOpenSessionsAsync("c1", ["a1"], Ct)));

        // Once the first has ended, the next one opens, and is the agent's open and latest session.
        await WriteAsync(async tx =>
        {
            await tx.UpdateSessionAsync(Session("s1", "a1", Now.AddSeconds(30), end: SessionStatus.Superseded), Ct);
            await tx.InsertSessionAsync(Session("s2", "a1", Now.AddSeconds(40), startedAt: Now.AddHours(-2)), Ct);
        });
        Assert.Equal(["s2"], SessionIds(await Store.GetOpenSessionsAsync("c1", ["a1"], Ct)));
        Assert.Equal(["s2"], SessionIds(await Store.GetLatestSessionsAsync("c1", ["a1"], Ct)));
    }

    [Fact]
    public async Task ListSessions_OfAnAgent_FindsItsWholeHistory_ByStatusAndPage()
    {
        await WriteAsync(async tx =>
        {
            foreach (var agent in new[] { "a1", "a2", "a3" })
            {
                await tx.UpsertAgentAsync(Agent(agent), Ct);
            }
            await tx.UpsertAgentAsync(Agent("a1", cluster: "c2"), Ct);
            foreach (var (id, hoursAgo) in new[] { ("s3", 2), ("s1", 4), ("s2", 3) })
            {
                await tx.InsertSessionAsync(Session(id, "a1", Now.AddSeconds(-100), end: SessionStatus.Left, startedAt: Now.AddHours(-hoursAgo)), Ct);
            }
            await tx.InsertSessionAsync(Session("s4", "a1", Now.AddSeconds(10)), Ct);
            await tx.InsertSessionAsync(Session("s5", "a2", Now.AddSeconds(-100), end: SessionStatus.Killed), Ct);
            await tx.InsertSessionAsync(Session("s6", "a2", Now.AddSeconds(10)), Ct);
            await tx.InsertSessionAsync(Session("s7", "a3", Now.AddSeconds(-100), end: SessionStatus.Expired), Ct);
            await tx.InsertSessionAsync(Session("s9", "a3", Now.AddSeconds(-100), end: SessionStatus.Left, startedAt: Now.AddHours(-5)), Ct);
            await tx.InsertSessionAsync(Session("s8", "a1", Now.AddSeconds(10), cluster: "c2"), Ct);
        });

        async Task<string[]> Ids(SessionQuery query) => SessionIds(await Store.ListSessionsAsync(query, Ct));
        var all = new SessionQuery("c1", StatusFilter.All, Now, 100, AgentId: "a1");
        Assert.Equal(["s1", "s2", "s3", "s4"], await Ids(all));
        Assert.Equal(["s1", "s2", "s3"], await Ids(all with { Filter = StatusFilter.Ended }));
        Assert.Equal(["s4"], await Ids(all with { Filter = StatusFilter.Alive }));
        Assert.Equal(["s1", "s2"], await Ids(all with { Limit = 2 }));
        Assert.Equal(["s3", "s4"], await Ids(all with { AfterSessionId = "s2" }));
        Assert.Equal(["s5", "s6"], await Ids(all with { AgentId = "a2" }));
        // An agent whose latest session has ended: each session once.
        Assert.Equal(["s7", "s9"], await Ids(all with { AgentId = "a3" }));
        Assert.Equal(["s7", "s9"], await Ids(all with { AgentId = "a3", Filter = StatusFilter.Ended }));
        Assert.Empty(await Ids(all with { AgentId = "missing" }));
        Assert.Equal(["s8"], await Ids(all with { Cluster = "c2" }));

        // The latest of an agent is the open one, else the ended one that started last.
        Assert.Equal(["s4", "s6", "s7"], SessionIds(await Store.GetLatestSessionsAsync("c1", ["a1", "a2", "a3"], Ct)));
    }

    [Fact]
    public async Task Sessions_OpenAndLatestOfAgents()
    {
        await SeedStatusFixtureAsync();

        var open = await Store.GetOpenSessionsAsync("c1", ["p-alive", "p-gone", "p-overdue", "missing"], Ct);
        // Open means not ended in the store: a lease past its grace stays open until swept.
        Assert.Equal(["s01-p-alive", "s04-p-overdue"], SessionIds(open).Order());
        Assert.Empty(await Store.GetOpenSessionsAsync("c1", [], Ct));
        Assert.Equal(["s00-other"], SessionIds(await Store.GetOpenSessionsAsync("c2", ["p-alive"], Ct)));

        var latest = await Store.GetLatestSessionsAsync("c1", ["p-alive", "p-gone", "never-joined", "missing"], Ct);
        Assert.Equal(["s01-p-alive", "s03-p-gone"], SessionIds(latest).Order());
        Assert.Empty(await Store.GetLatestSessionsAsync("c1", [], Ct));
    }

    [Fact]
    public async Task CountLiveChildren_CountsAliveAndStaleOnly()
    {
        await SeedStatusFixtureAsync();
        await WriteAsync(async tx =>
        {
            Assert.Equal(2, await tx.CountLiveChildrenAsync("c1", "p-gone", Now, Ct)); // one idle, one stale
            Assert.Equal(1, await tx.CountLiveChildrenAsync("c1", "p-alive", Now, Ct));
            Assert.Equal(0, await tx.CountLiveChildrenAsync("c1", "s01-p-alive", Now, Ct));
            Assert.Equal(0, await tx.CountLiveChildrenAsync("c2", "p-gone", Now, Ct));
            // Later, the stale child is past its grace and the idle one is stale: one counts.
            Assert.Equal(1, await tx.CountLiveChildrenAsync("c1", "p-gone", Now.AddSeconds(25), Ct));
        });
    }

    [Fact]
    public async Task ListOpenSessions_ReturnsEveryOpenSessionOfEveryCluster_ById()
    {
        await SeedStatusFixtureAsync();
        var all = (await Store.ListSessionsAsync(new SessionQuery("c1", StatusFilter.All, Now, 1000), Ct))
            .Concat(await Store.ListSessionsAsync(new SessionQuery("c2", StatusFilter.All, Now, 1000), Ct));
        var expected = SessionIds(all.Where(s => s.IsOpen)).Order(StringComparer.Ordinal).ToArray();
        Assert.Contains("s00-other", expected); // another cluster
        Assert.Contains("s04-p-overdue", expected); // past its grace, but not ended in the store
        Assert.DoesNotContain("s03-p-gone", expected);
        await WriteAsync(async tx =>
        {
            Assert.Equal(expected, SessionIds(await tx.ListOpenSessionsAsync(null, 1000, Ct)));
            var first = await tx.ListOpenSessionsAsync(null, 2, Ct);
            Assert.Equal(expected.Take(2), SessionIds(first));
            Assert.Equal(expected.Skip(2), SessionIds(await tx.ListOpenSessionsAsync(first[^1].SessionId, 1000, Ct)));
        });
    }

    [Fact]
    public async Task ExtendOpenLeases_ExtendsEveryOpenLeaseToAtLeastNowPlusTtl()
    {
        var behind = Session("e1", "a1", Now.AddSeconds(-100)) with { StaleNotified = true };
        var soon = Session("e2", "a2", Now.AddSeconds(10), ttl: 60);
        var ahead = Session("e3", "a3", Now.AddHours(1));
        var ended = Session("e4", "a4", Now.AddSeconds(-100), end: SessionStatus.Left);
        await SeedSessionsAsync(behind, soon, ahead, ended);

        await WriteAsync(async tx => Assert.Equal(2, await tx.ExtendOpenLeasesAsync(Now, Ct)));

        var extended = await Store.GetSessionAsync("e1", Ct);
        Assert.Equal(behind with { ExpiresAt = Now.AddSeconds(30), StaleNotified = false }, extended);
        Assert.Equal(SessionStatus.Active, extended!.StatusAt(Now));
        Assert.Equal(soon with { ExpiresAt = Now.AddSeconds(60) }, await Store.GetSessionAsync("e2", Ct));
        Assert.Equal(ahead, await Store.GetSessionAsync("e3", Ct));
        Assert.Equal(ended, await Store.GetSessionAsync("e4", Ct));
    }

    // ---- Sessions: lease checkpoints ----

    [Fact]
    public async Task UpdateLeases_WritesTheLeaseFieldsOfOpenSessionsOnly()
    {
        var stale = Session("s1", "a1", Now.AddSeconds(-5), load: 0.5) with { StaleNotified = true };
        var other = Session("s2", "a2", Now.AddSeconds(5), ttl: 60);
        var ended = Session("s-ended", "a3", Now.AddSeconds(10), end: SessionStatus.Left);
        await SeedSessionsAsync(stale, other, ended);

        var renewed = stale with { LastSeen = Now, ExpiresAt = Now.AddSeconds(30), Load = 0.25, Idle = true, StaleNotified = false };
        var marked = other with { StaleNotified = true, Load = null };
        // Only the lease fields are written: a checkpoint never changes the TTL, the times of an ending or the start.
        var otherwise = ended with { LastSeen = Now, ExpiresAt = Now.AddSeconds(99), Load = 1, EndStatus = null, EndedAt = null };
        var missing = Session("missing", "a4", Now);
        await WriteAsync(async tx => Assert.Equal(2, await tx.UpdateLeasesAsync([renewed with { Ttl = 5 }, marked, otherwise, missing], Ct)));

        Assert.Equal(renewed, await Store.GetSessionAsync("s1", Ct));
        Assert.Equal(marked, await Store.GetSessionAsync("s2", Ct));
        Assert.Equal(ended, await Store.GetSessionAsync("s-ended", Ct));
        Assert.Null(await Store.GetSessionAsync("missing", Ct));
        await WriteAsync(async tx => Assert.Equal(0, await tx.UpdateLeasesAsync([], Ct)));
    }

    [Fact]
    public async Task UpdateLeases_RolledBack_WritesNothing()
    {
        var session = Session("s1", "a1", Now);
        await SeedSessionsAsync(session);
        await using (var tx = await Store.BeginWriteAsync(Ct))
        {
            await tx.UpdateLeasesAsync([session with { ExpiresAt = Now.AddHours(1) }], Ct);
        }
        Assert.Equal(session, await Store.GetSessionAsync("s1", Ct));
    }

    // ---- Sessions: filtered, paged lists ----

    [Theory]
    [InlineData(StatusFilter.Active, "s01-p-alive s06-edge-active s09-c-of-alive s10-c-of-stale s12-c-of-overdue s13-c-of-never")]
    [InlineData(StatusFilter.Idle, "s05-idle s11-c-of-gone")]
    [InlineData(StatusFilter.Alive, "s01-p-alive s05-idle s06-edge-active s09-c-of-alive s10-c-of-stale s11-c-of-gone s12-c-of-overdue s13-c-of-never")]
    [InlineData(StatusFilter.Stale, "s02-p-stale s07-edge-stale s14-c-stale-of-gone")]
    [InlineData(StatusFilter.Ended, "s03-p-gone s04-p-overdue s08-killed s15-p-alive-old s16-p-gone-old")]
    [InlineData(StatusFilter.Orphaned, "s11-c-of-gone s12-c-of-overdue s13-c-of-never")]
    [InlineData(StatusFilter.All, "s01-p-alive s02-p-stale s03-p-gone s04-p-overdue s05-idle s06-edge-active s07-edge-stale s08-killed s09-c-of-alive s10-c-of-stale s11-c-of-gone s12-c-of-overdue s13-c-of-never s14-c-stale-of-gone s15-p-alive-old s16-p-gone-old")]
    public async Task ListSessions_FiltersByStatusAtNow(StatusFilter filter, string expected)
    {
        await SeedStatusFixtureAsync();
        var sessions = await Store.ListSessionsAsync(new SessionQuery("c1", filter, Now, 1000), Ct);
        Assert.Equal(expected.Split(' '), SessionIds(sessions));
    }

    [Fact]
    public async Task ListSessions_StatusFiltersAgreeWithStatusAt()
    {
        await SeedStatusFixtureAsync();
        foreach (var now in new[] { Now.AddSeconds(-60), Now, Now.AddSeconds(15), Now.AddSeconds(45), Now.AddMinutes(5) })
        {
            var all = await Store.ListSessionsAsync(new SessionQuery("c1", StatusFilter.All, now, 1000), Ct);
            Assert.Equal(16, all.Count);
            (StatusFilter Filter, Func<SessionStatus, bool> Matches)[] rules =
            [
                (StatusFilter.Active, s => s == SessionStatus.Active),
                (StatusFilter.Idle, s => s == SessionStatus.Idle),
                (StatusFilter.Alive, s => s.IsAlive()),
                (StatusFilter.Stale, s => s == SessionStatus.Stale),
                (StatusFilter.Ended, s => s.IsTerminal()),
            ];
            foreach (var (filter, matches) in rules)
            {
                var expected = SessionIds(all.Where(s => matches(s.StatusAt(now))));
                var actual = SessionIds(await Store.ListSessionsAsync(new SessionQuery("c1", filter, now, 1000), Ct));
                Assert.True(expected.SequenceEqual(actual), $"{filter} at {now:O}: expected [{string.Join(", ", expected)}], got [{string.Join(", ", actual)}]");
            }
        }
    }

    [Fact]
    public async Task ListSessions_PagesBySessionId()
    {
        await SeedSessionsAsync(
            [.. new[] { "s3", "s1", "s5", "s2", "s4" }.Select(id => Session(id, "agent-" + id, Now.AddSeconds(10))),
             Session("s0", "other", Now.AddSeconds(10), cluster: "c2")]);

        var pages = new List<string[]>();
        string? after = null;
        while (true)
        {
            var page = await Store.ListSessionsAsync(new SessionQuery("c1", StatusFilter.Alive, Now, 2, AfterSessionId: after), Ct);
            if (page.Count == 0)
            {
                break;
            }
            pages.Add(SessionIds(page));
            after = page[^1].SessionId;
        }
        Assert.Equal(new[] { new[] { "s1", "s2" }, ["s3", "s4"], ["s5"] }, pages);
    }

    [Fact]
    public async Task ListSessions_FiltersByLabels()
    {
        await WriteAsync(async tx =>
        {
            await SeedAgentWithSessionAsync(tx, Agent("a1", labels: new() { ["team"] = "red", ["env"] = "prod", ["k.with [dots] and spaces"] = "x", ["région"] = "nörd" }));
            await SeedAgentWithSessionAsync(tx, Agent("a2", labels: new() { ["team"] = "red", ["env"] = "dev" }));
            await SeedAgentWithSessionAsync(tx, Agent("a3", labels: new() { ["team"] = "blue", ["env"] = "prod", ["quote\"and\\slash"] = "v\"q" }));
            await SeedAgentWithSessionAsync(tx, Agent("a4"));
        });

        async Task<string[]> Agents(params (string Key, string Value)[] labels) =>
            (await Store.ListSessionsAsync(new SessionQuery("c1", StatusFilter.Alive, Now, 100, Labels: labels.Select(l => KeyValuePair.Create(l.Key, l.Value)).ToList()), Ct))
                .Select(s => s.AgentId).ToArray();

        Assert.Equal(["a1", "a2", "a3", "a4"], await Agents());
        Assert.Equal(["a1", "a2"], await Agents(("team", "red")));
        Assert.Equal(["a1"], await Agents(("team", "red"), ("env", "prod")));
        Assert.Equal(["a1", "a3"], await Agents(("env", "prod")));
        Assert.Equal(["a1"], await Agents(("k.with [dots] and spaces", "x")));
        Assert.Equal(["a1"], await Agents(("région", "nörd")));
        Assert.Equal(["a3"], await Agents(("quote\"and\\slash", "v\"q")));
        Assert.Empty(await Agents(("team", "green")));
        Assert.Empty(await Agents(("team", "RED")));
        Assert.Empty(await Agents(("missing", "")));
        Assert.Empty(await Agents(("team", "red"), ("team", "blue")));
    }

    [Fact]
    public async Task ListSessions_FiltersBySpecializationParentAndAgent()
    {
        await WriteAsync(async tx =>
        {
            await SeedAgentWithSessionAsync(tx, Agent("root"));
            await SeedAgentWithSessionAsync(tx, Agent("a1", parentId: "root", labels: new() { ["team"] = "red" }));
            await SeedAgentWithSessionAsync(tx, Agent("a2", parentId: "root"));
            await SeedAgentWithSessionAsync(tx, Agent("a3", parentId: "other", labels: new() { ["team"] = "red" }));
            await tx.InsertSessionAsync(Session("a1-old", "a1", Now.AddSeconds(-100), end: SessionStatus.Left), Ct);
            await tx.UpsertSpecializationAsync(Specialization("a1", "vision"), Ct);
            await tx.UpsertSpecializationAsync(Specialization("a3", "vision"), Ct);
            await tx.UpsertSpecializationAsync(Specialization("a2", "audio"), Ct);
            await tx.UpsertAgentAsync(Agent("a2", cluster: "c2"), Ct);
            await tx.UpsertSpecializationAsync(Specialization("a2", "vision", cluster: "c2"), Ct);
        });

        async Task<string[]> Ids(SessionQuery query) => SessionIds(await Store.ListSessionsAsync(query, Ct));
        var alive = new SessionQuery("c1", StatusFilter.Alive, Now, 100);

        Assert.Equal(["s-a1", "s-a3"], await Ids(alive with { Specialization = "vision" }));
        Assert.Equal(["s-a2"], await Ids(alive with { Specialization = "audio" }));
        Assert.Empty(await Ids(alive with { Specialization = "missing" }));
        Assert.Equal(["s-a1", "s-a2"], await Ids(alive with { ParentId = "root" }));
        Assert.Equal(["s-a1"], await Ids(alive with { ParentId = "root", Labels = [KeyValuePair.Create("team", "red")] }));
        Assert.Equal(["s-a1"], await Ids(alive with { ParentId = "root", Specialization = "vision" }));
        Assert.Equal(["s-a1"], await Ids(alive with { AgentId = "a1" }));
        Assert.Equal(["a1-old", "s-a1"], await Ids(alive with { AgentId = "a1", Filter = StatusFilter.All }));
        Assert.Empty(await Ids(alive with { Cluster = "c2" }));
    }

    [Fact]
    public async Task CountSessions_CountsOpenSessionsByStatus_AcrossClusters()
    {
        await SeedStatusFixtureAsync();
        var counts = await Store.CountSessionsAsync(Now, Ct);
        Assert.Equal(7, counts.GetValueOrDefault(SessionStatus.Active));
        Assert.Equal(2, counts.GetValueOrDefault(SessionStatus.Idle));
        Assert.Equal(3, counts.GetValueOrDefault(SessionStatus.Stale));
        Assert.Equal(1, counts.GetValueOrDefault(SessionStatus.Expired));
        Assert.Equal(0, counts.GetValueOrDefault(SessionStatus.Left));
        Assert.Equal(0, counts.GetValueOrDefault(SessionStatus.Killed));
    }

    // ---- Sessions: exit code, progress, stalls and budgets ----

    [Fact]
    public async Task Sessions_ProgressStallBudgetAndExitCode_RoundTripThroughInsertUpdateAndReads()
    {
        var session = Tracked("s1", "a1");
        await SeedSessionsAsync(session);
        AssertSession(session, await Store.GetSessionAsync("s1", Ct));
        AssertSession(session, Assert.Single(await Store.ListSessionsAsync(new SessionQuery("c1", StatusFilter.All, Now, 10), Ct)));
        AssertSession(session, Assert.Single(await Store.GetOpenSessionsAsync("c1", ["a1"], Ct)));
        AssertSession(session, Assert.Single(await Store.GetLatestSessionsAsync("c1", ["a1"], Ct)));

        // Every field changes, and a budget, a stall limit and a charge list can be taken away again.
        var changed = session with
        {
            Progress = new AgentProgress { Tokens = 9000, Turns = 12, Activity = "writing the report ✓" },
            ProgressedAt = Now.AddSeconds(-2),
            StallAfter = 600,
            OnStall = "kill",
            StallNotified = false,
            Budget = new AgentBudget { CostUsd = 2.75, Runtime = 7200 },
            BudgetUsed = new AgentProgress { Tokens = 9000, Turns = 12, CostUsd = 1.5 },
            ChargeTo = ["s-root", "s-parent", "s1"],
            BudgetAlert = "exceeded",
        };
        await WriteAsync(async tx =>
        {
            await tx.UpdateSessionAsync(changed, Ct);
            AssertSession(changed, await tx.GetSessionAsync("s1", Ct));
            AssertSession(changed, await tx.GetOpenSessionAsync("c1", "a1", Ct));
        });
        AssertSession(changed, await Store.GetSessionAsync("s1", Ct));

        // Leaving writes the exit code; the progress stays for the record.
        var left = changed with { EndStatus = SessionStatus.Left, EndedAt = Now, EndReason = "done", ExitCode = 3 };
        await WriteAsync(tx => tx.UpdateSessionAsync(left, Ct));
        AssertSession(left, await Store.GetSessionAsync("s1", Ct));

        var cleared = left with { Progress = null, ProgressedAt = null, StallAfter = null, OnStall = null, Budget = null, BudgetUsed = null, ChargeTo = null, BudgetAlert = null, ExitCode = null };
        await WriteAsync(tx => tx.UpdateSessionAsync(cleared, Ct));
        AssertSession(cleared, await Store.GetSessionAsync("s1", Ct));

        // An empty charge list is not a missing one, and a zero exit code is not a missing one.
        var zero = cleared with { ChargeTo = [], ExitCode = 0 };
        await WriteAsync(tx => tx.UpdateSessionAsync(zero, Ct));
        AssertSession(zero, await Store.GetSessionAsync("s1", Ct));
    }

    [Fact]
    public async Task UpdateLeases_WritesProgressAndBudgetUsage_NotTheSettings()
    {
        var session = Tracked("s1", "a1");
        await SeedSessionsAsync(session);

        var renewed = session with
        {
            LastSeen = Now,
            ExpiresAt = Now.AddSeconds(30),
            Progress = new AgentProgress { Tokens = 5000, ToolCalls = 40, Turns = 8, CostUsd = 0.5, Activity = "running tests" },
            ProgressedAt = Now,
            StallNotified = false,
            BudgetUsed = new AgentProgress { Tokens = 5000, ToolCalls = 40, Turns = 8, CostUsd = 0.5 },
            BudgetAlert = "exceeded",
        };
        // A checkpoint writes what heartbeats change, never the settings the join made nor an exit code.
        var withSettings = renewed with { StallAfter = 1, OnStall = "kill", Budget = new AgentBudget { Tokens = 1 }, ChargeTo = ["other"], ExitCode = 9 };
        await WriteAsync(async tx => Assert.Equal(1, await tx.UpdateLeasesAsync([withSettings], Ct)));
        AssertSession(renewed, await Store.GetSessionAsync("s1", Ct));

        // A checkpoint writes the lease as it is, nulls included.
        var blank = renewed with { LastSeen = Now.AddSeconds(1), ExpiresAt = Now.AddSeconds(31), Progress = null, ProgressedAt = null, BudgetUsed = null, BudgetAlert = null, StallNotified = true };
        await WriteAsync(async tx => Assert.Equal(1, await tx.UpdateLeasesAsync([blank], Ct)));
        AssertSession(blank, await Store.GetSessionAsync("s1", Ct));
    }

    [Fact]
    public async Task ListSessions_FiltersStalled_AndCountSessionsCountsThem()
    {
        var noReportYet = Session("st-1-never-reported", "a1", Now.AddSeconds(10)) with { StallAfter = 60 };
        var stalled = Session("st-2-stalled", "a2", Now.AddSeconds(10)) with { StallAfter = 60, ProgressedAt = Now.AddSeconds(-61), Progress = new AgentProgress { Turns = 1 } };
        var edge = Session("st-3-edge", "a3", Now.AddSeconds(10)) with { StallAfter = 60, ProgressedAt = Now.AddSeconds(-60) };
        var progressing = Session("st-4-progressing", "a4", Now.AddSeconds(10)) with { StallAfter = 60, ProgressedAt = Now.AddSeconds(-5) };
        var unlimited = Session("st-5-no-limit", "a5", Now.AddSeconds(10)) with { ProgressedAt = Now.AddHours(-1) };
        var idle = Session("st-6-idle", "a6", Now.AddSeconds(10), idle: true) with { StallAfter = 60 };
        var stale = Session("st-7-stale", "a7", Now.AddSeconds(-5)) with { StallAfter = 60 };
        var ended = Session("st-8-ended", "a8", Now.AddSeconds(10), end: SessionStatus.Left) with { StallAfter = 60, ExitCode = 1 };
        var otherCluster = Session("st-9-other", "a9", Now.AddSeconds(10), cluster: "c2") with { StallAfter = 1 };
        await SeedSessionsAsync(noReportYet, stalled, edge, progressing, unlimited, idle, stale, ended, otherCluster);

        async Task<string[]> Ids(StatusFilter filter, string cluster = "c1") =>
            SessionIds(await Store.ListSessionsAsync(new SessionQuery(cluster, filter, Now, 100), Ct));
        Assert.Equal(["st-1-never-reported", "st-2-stalled"], await Ids(StatusFilter.Stalled));
        Assert.Equal(["st-3-edge", "st-4-progressing", "st-5-no-limit"], await Ids(StatusFilter.Active));
        Assert.Equal(["st-6-idle"], await Ids(StatusFilter.Idle));
        Assert.Equal(["st-7-stale"], await Ids(StatusFilter.Stale));
        Assert.Equal(["st-1-never-reported", "st-2-stalled", "st-3-edge", "st-4-progressing", "st-5-no-limit", "st-6-idle"], await Ids(StatusFilter.Alive));
        Assert.Equal(["st-9-other"], await Ids(StatusFilter.Stalled, "c2"));

        var counts = await Store.CountSessionsAsync(Now, Ct);
        Assert.Equal(3, counts.GetValueOrDefault(SessionStatus.Stalled));
        Assert.Equal(3, counts.GetValueOrDefault(SessionStatus.Active));
        Assert.Equal(1, counts.GetValueOrDefault(SessionStatus.Idle));
        Assert.Equal(1, counts.GetValueOrDefault(SessionStatus.Stale));

        // The filters agree with StatusAt as time passes: the edge and the progressing sessions stall in turn.
        foreach (var now in new[] { Now.AddSeconds(-30), Now, Now.AddMilliseconds(1), Now.AddSeconds(9), Now.AddSeconds(20) })
        {
            var all = await Store.ListSessionsAsync(new SessionQuery("c1", StatusFilter.All, now, 100), Ct);
            foreach (var (filter, status) in new[] { (StatusFilter.Active, SessionStatus.Active), (StatusFilter.Stalled, SessionStatus.Stalled), (StatusFilter.Idle, SessionStatus.Idle) })
            {
                var expected = SessionIds(all.Where(s => s.StatusAt(now) == status));
                var actual = SessionIds(await Store.ListSessionsAsync(new SessionQuery("c1", filter, now, 100), Ct));
                Assert.True(expected.SequenceEqual(actual), $"{filter} at {now:O}: expected [{string.Join(", ", expected)}], got [{string.Join(", ", actual)}]");
            }
        }
    }

    // ---- Registry ----

    [Fact]
    public async Task Specializations_UpsertGetDelete()
    {
        var original = Specialization("a1", "vision", description: "sees", tags: ["gpu", "fast"], version: "1.0");
        await WriteAsync(async tx =>
        {
            await tx.UpsertAgentAsync(Agent("a1"), Ct);
            await tx.UpsertAgentAsync(Agent("a2"), Ct);
            Assert.Null(await tx.GetSpecializationAsync("c1", "a1", "vision", Ct));
            await tx.UpsertSpecializationAsync(original, Ct);
            await tx.UpsertSpecializationAsync(Specialization("a1", "audio"), Ct);
            await tx.UpsertSpecializationAsync(Specialization("a2", "vision"), Ct);
            AssertSpecialization(original, await tx.GetSpecializationAsync("c1", "a1", "vision", Ct));
        });

        var replaced = original with { Description = null, Tags = [], Version = "2.0", RegisteredAt = Now.AddMinutes(1) };
        await WriteAsync(tx => tx.UpsertSpecializationAsync(replaced, Ct));
        var ofA1 = await Store.GetSpecializationsAsync("c1", ["a1", "missing"], Ct);
        Assert.Equal(["audio", "vision"], ofA1.Select(s => s.Name).Order());
        AssertSpecialization(replaced, ofA1.Single(s => s.Name == "vision"));
        Assert.Equal(3, (await Store.GetSpecializationsAsync("c1", ["a1", "a2"], Ct)).Count);
        Assert.Empty(await Store.GetSpecializationsAsync("c2", ["a1"], Ct));
        Assert.Empty(await Store.GetSpecializationsAsync("c1", [], Ct));

        await WriteAsync(async tx =>
        {
            Assert.True(await tx.DeleteSpecializationAsync("c1", "a1", "vision", Ct));
            Assert.False(await tx.DeleteSpecializationAsync("c1", "a1", "vision", Ct));
            Assert.False(await tx.DeleteSpecializationAsync("c2", "a1", "audio", Ct));
        });
        Assert.Equal(["audio"], (await Store.GetSpecializationsAsync("c1", ["a1"], Ct)).Select(s => s.Name));
    }

    [Fact]
    public async Task FindBySpecialization_OrdersAliveFirstThenLoadThenAgentId()
    {
        await SeedRegistryFixtureAsync();

        var all = await Store.FindBySpecializationAsync(new RegistryQuery("c1", "vision", AliveOnly: false, Now, 0, 100), Ct);
        Assert.Equal(["d-alive", "f-alive", "c-alive", "e-alive", "b-stale", "a-never", "g-ended"], all.Select(m => m.Specialization.AgentId));
        Assert.All(all, m => Assert.Equal("vision", m.Specialization.Name));
        Assert.Equal("s-d", all[0].Session!.SessionId);
        Assert.Equal(0.2, all[0].Session!.Load);
        Assert.Equal("s-b", all[4].Session!.SessionId);
        Assert.Null(all[5].Session);
        Assert.Null(all[6].Session); // its only session ended: no open session

        var alive = await Store.FindBySpecializationAsync(new RegistryQuery("c1", "vision", AliveOnly: true, Now, 0, 100), Ct);
        Assert.Equal(["d-alive", "f-alive", "c-alive", "e-alive"], alive.Select(m => m.Specialization.AgentId));

        var page = await Store.FindBySpecializationAsync(new RegistryQuery("c1", "vision", AliveOnly: false, Now, 3, 2), Ct);
        Assert.Equal(["e-alive", "b-stale"], page.Select(m => m.Specialization.AgentId));

        // Later every lease has lapsed: nobody is alive, so load alone orders them.
        var later = await Store.FindBySpecializationAsync(new RegistryQuery("c1", "vision", AliveOnly: false, Now.AddSeconds(20), 0, 100), Ct);
        Assert.Equal(["b-stale", "d-alive", "f-alive", "c-alive", "a-never", "e-alive", "g-ended"], later.Select(m => m.Specialization.AgentId));
        Assert.Empty(await Store.FindBySpecializationAsync(new RegistryQuery("c1", "vision", AliveOnly: true, Now.AddSeconds(20), 0, 100), Ct));
        Assert.Empty(await Store.FindBySpecializationAsync(new RegistryQuery("c1", "missing", AliveOnly: false, Now, 0, 100), Ct));
        Assert.Equal(["x"], (await Store.FindBySpecializationAsync(new RegistryQuery("c2", "vision", AliveOnly: false, Now, 0, 100), Ct)).Select(m => m.Specialization.AgentId));
    }

    [Fact]
    public async Task CountSpecializations_CountsAgentsAndAliveAgents()
    {
        await SeedRegistryFixtureAsync();
        var counts = (await Store.CountSpecializationsAsync("c1", Now, Ct)).OrderBy(c => c.Specialization, StringComparer.Ordinal).ToList();
        Assert.Equal([new SpecializationCount("audio", 2, 1), new SpecializationCount("vision", 7, 4)], counts);
        Assert.Equal([new SpecializationCount("vision", 1, 0)], await Store.CountSpecializationsAsync("c2", Now, Ct));
        Assert.Empty(await Store.CountSpecializationsAsync("c3", Now, Ct));
    }

    // ---- Keys ----

    [Fact]
    public async Task Keys_UpsertGetReplaceAndList()
    {
        var a = Key("k-a", scopes: MeshScopes.Read | MeshScopes.Steer, agentId: "a1", expiresAt: Now.AddHours(1));
        var b = Key("k-b", cluster: "c2");
        var c = Key("k-c", scopes: MeshScopes.Admin);
        await WriteAsync(async tx =>
        {
            Assert.Null(await tx.GetKeyAsync("k-a", Ct));
            await tx.UpsertKeyAsync(c, Ct);
            await tx.UpsertKeyAsync(a, Ct);
            await tx.UpsertKeyAsync(b, Ct);
            AssertKey(a, await tx.GetKeyAsync("k-a", Ct));
        });
        AssertKey(a, await Store.GetKeyAsync("k-a", Ct));
        AssertKey(c, await Store.GetKeyAsync("k-c", Ct));
        Assert.Null(await Store.GetKeyAsync("missing", Ct));

        var revoked = a with { RevokedAt = Now.AddMinutes(5), SecretHash = [9, 9, 9] };
        await WriteAsync(tx => tx.UpsertKeyAsync(revoked, Ct));
        AssertKey(revoked, await Store.GetKeyAsync("k-a", Ct));
        Assert.Equal("revoked", (await Store.GetKeyAsync("k-a", Ct))!.StateAt(Now.AddMinutes(6)));

        Assert.Equal(["k-a", "k-b", "k-c"], (await Store.ListKeysAsync(null, null, 100, Ct)).Select(k => k.KeyId));
        Assert.Equal(["k-a", "k-c"], (await Store.ListKeysAsync("c1", null, 100, Ct)).Select(k => k.KeyId));
        Assert.Equal(["k-b"], (await Store.ListKeysAsync(null, "k-a", 1, Ct)).Select(k => k.KeyId));
        Assert.Equal(["k-c"], (await Store.ListKeysAsync("c1", "k-a", 100, Ct)).Select(k => k.KeyId));
        Assert.Empty(await Store.ListKeysAsync(null, "k-c", 100, Ct));
    }

    // ---- Audit ----

    [Fact]
    public async Task Audit_ListsNewestFirst_PagedBeforeId()
    {
        var first = new AuditRecord(0, Now, "k1", "c1", "POST", "/api/session-mesh/steer", 200, null);
        var second = new AuditRecord(0, Now.AddSeconds(1), "k2", "c2", "DELETE", "/api/session-mesh/agents/a1", 404, "agent_not_found");
        var third = new AuditRecord(0, Now.AddSeconds(2), "k1", "c1", "POST", "/api/session-mesh/keys", 201, null);
        await WriteAsync(async tx =>
        {
            await tx.AppendAuditAsync(first, Ct);
            await tx.AppendAuditAsync(second, Ct);
        });
        await WriteAsync(tx => tx.AppendAuditAsync(third, Ct));

        var all = await Store.ListAuditAsync(null, null, 100, Ct);
        Assert.Equal([third, second, first], all.Select(e => e with { Id = 0 }));
        Assert.True(all[0].Id > all[1].Id && all[1].Id > all[2].Id);

        Assert.Equal([third, first], (await Store.ListAuditAsync("c1", null, 100, Ct)).Select(e => e with { Id = 0 }));
        Assert.Equal([second], (await Store.ListAuditAsync(null, all[0].Id, 1, Ct)).Select(e => e with { Id = 0 }));
        Assert.Equal([first], (await Store.ListAuditAsync("c1", all[0].Id, 100, Ct)).Select(e => e with { Id = 0 }));
        Assert.Empty(await Store.ListAuditAsync(null, all[2].Id, 100, Ct));
    }

    // ---- Commands ----

    [Fact]
    public async Task Commands_InsertGetAndUpdate_RoundTripEveryField()
    {
        var full = new CommandRecord(
            "cmd-full", "c1", "a1", CommandKind.Kill, CommandStatus.Queued, 7,
            Direction: "wrap up", Mode: "interrupt", Text: "stop now ✋", From: "parent-1", Reason: "budget exhausted",
            GracePeriod: 45, Payload: Json("""{"a":[1,2.5,{"b":"ü"}],"n":null,"t":true}"""), Result: Json("""{"pre":"x"}"""),
            CreatedAt: Now, DeliveredAt: Now.AddMilliseconds(250), CompletedAt: Now.AddSeconds(1), DeadlineAt: Now.AddSeconds(45),
            CreatedBy: "k-root", IdempotencyKey: "idem-1", DeliveryCount: 3);
        var minimal = new CommandRecord(
            "cmd-min", "c1", "a1", CommandKind.Message, CommandStatus.Queued, 8, null, null, null, null, null, null, null, null,
            Now, null, null, null, "k-root", null);
        await WriteAsync(async tx =>
        {
            Assert.Null(await tx.GetCommandAsync("cmd-full", Ct));
            await tx.InsertCommandAsync(full, Ct);
            await tx.InsertCommandAsync(minimal, Ct);
            AssertCommand(full, await tx.GetCommandAsync("cmd-full", Ct));
        });
        AssertCommand(full, await Store.GetCommandAsync("cmd-full", Ct));
        AssertCommand(minimal, await Store.GetCommandAsync("cmd-min", Ct));
        Assert.Null(await Store.GetCommandAsync("missing", Ct));

        var delivered = minimal with { Status = CommandStatus.Delivered, DeliveredAt = Now.AddSeconds(1), DeliveryCount = 1, DeadlineAt = Now.AddMinutes(5) };
        await WriteAsync(async tx =>
        {
            await tx.UpdateCommandAsync(delivered, Ct);
            AssertCommand(delivered, await tx.GetCommandAsync("cmd-min", Ct));
        });
        AssertCommand(delivered, await Store.GetCommandAsync("cmd-min", Ct));

        var acked = delivered with { Status = CommandStatus.Acked, CompletedAt = Now.AddSeconds(2), Result = Json("""{"ok":true,"notes":["done"]}"""), DeliveryCount = 2 };
        var cleared = full with { Status = CommandStatus.Failed, Result = null, DeliveredAt = null, CompletedAt = null, DeadlineAt = null, DeliveryCount = 0 };
        await WriteAsync(async tx =>
        {
            await tx.UpdateCommandAsync(acked, Ct);
            await tx.UpdateCommandAsync(cleared, Ct);
        });
        AssertCommand(acked, await Store.GetCommandAsync("cmd-min", Ct));
        AssertCommand(cleared, await Store.GetCommandAsync("cmd-full", Ct));
    }

    [Fact]
    public async Task RecordDelivery_DeliversAQueuedCommand_CountsARedelivery_AndLeavesOthersAlone()
    {
        var steer = Command("steer", "a1", 1, deadlineAt: Now.AddMinutes(5));
        var kill = Command("kill", "a1", 2, kind: CommandKind.Kill, deadlineAt: Now.AddSeconds(30));
        var acked = Command("acked", "a1", 3, status: CommandStatus.Acked);
        await WriteAsync(async tx =>
        {
            foreach (var command in new[] { steer, kill, acked })
            {
                await tx.InsertCommandAsync(command, Ct);
            }
        });
        var at = Now.AddSeconds(1);

        var found = new List<CommandDelivery>();
        await WriteAsync(async tx =>
        {
            foreach (var id in new[] { "steer", "kill", "steer", "acked", "missing" })
            {
                found.Add(await tx.RecordDeliveryAsync(id, id == "steer" && found.Count > 0 ? at.AddSeconds(9) : at, Ct));
            }
        });

        Assert.Equal([CommandDelivery.First, CommandDelivery.First, CommandDelivery.Again, CommandDelivery.NotPending, CommandDelivery.NotPending], found);
        // Steers stop expiring once delivered; a kill keeps its grace deadline. The first delivery's time stays.
        AssertCommand(steer with { Status = CommandStatus.Delivered, DeliveredAt = at, DeadlineAt = null, DeliveryCount = 2 }, await Store.GetCommandAsync("steer", Ct));
        AssertCommand(kill with { Status = CommandStatus.Delivered, DeliveredAt = at, DeliveryCount = 1 }, await Store.GetCommandAsync("kill", Ct));
        AssertCommand(acked, await Store.GetCommandAsync("acked", Ct));
    }

    [Fact]
    public async Task Commands_FindByIdempotencyKey_IsScopedPerCreator()
    {
        var byK1 = Command("cmd-1", "a1", 1, createdBy: "k1", idempotencyKey: "same");
        var byK2 = Command("cmd-2", "a1", 2, createdBy: "k2", idempotencyKey: "same");
        var noKey1 = Command("cmd-3", "a1", 3, createdBy: "k1");
        var noKey2 = Command("cmd-4", "a2", 1, createdBy: "k1", cluster: "c2");
        await WriteAsync(async tx =>
        {
            Assert.Null(await tx.FindCommandByIdempotencyKeyAsync("k1", "same", Ct));
            foreach (var command in new[] { byK1, byK2, noKey1, noKey2 })
            {
                await tx.InsertCommandAsync(command, Ct);
            }
            AssertCommand(byK1, await tx.FindCommandByIdempotencyKeyAsync("k1", "same", Ct));
        });

        await WriteAsync(async tx =>
        {
            AssertCommand(byK1, await tx.FindCommandByIdempotencyKeyAsync("k1", "same", Ct));
            AssertCommand(byK2, await tx.FindCommandByIdempotencyKeyAsync("k2", "same", Ct));
            Assert.Null(await tx.FindCommandByIdempotencyKeyAsync("k3", "same", Ct));
            Assert.Null(await tx.FindCommandByIdempotencyKeyAsync("k1", "other", Ct));
            Assert.Null(await tx.FindCommandByIdempotencyKeyAsync("k1", "SAME", Ct));
        });

        // A creator cannot use one key twice.
        await Assert.ThrowsAnyAsync<Exception>(() => WriteAsync(tx => tx.InsertCommandAsync(Command("cmd-5", "a1", 5, createdBy: "k1", idempotencyKey: "same"), Ct)));
        Assert.Null(await Store.GetCommandAsync("cmd-5", Ct));
        await WriteAsync(tx => tx.InsertCommandAsync(Command("cmd-6", "a1", 6, createdBy: "k1"), Ct));
        Assert.NotNull(await Store.GetCommandAsync("cmd-6", Ct));
    }

    [Fact]
    public async Task Commands_SequencesIncreasePerAgent_IndependentlyAcrossAgentsAndClusters()
    {
        async Task<long> AddAsync(IMeshWriteTransaction tx, string id, string agentId, string cluster = "c1")
        {
            var sequence = await tx.NextCommandSequenceAsync(cluster, agentId, Ct);
            await tx.InsertCommandAsync(Command(id, agentId, sequence, cluster: cluster), Ct);
            return sequence;
        }

        var a1 = new List<long>();
        await WriteAsync(async tx =>
        {
            Assert.Equal(1, await tx.NextCommandSequenceAsync("c1", "a1", Ct));
            a1.Add(await AddAsync(tx, "x1", "a1"));
            a1.Add(await AddAsync(tx, "x2", "a1"));
            Assert.Equal(1, await AddAsync(tx, "y1", "a2"));
            Assert.Equal(1, await AddAsync(tx, "z1", "a1", cluster: "c2"));
        });
        await WriteAsync(async tx =>
        {
            a1.Add(await AddAsync(tx, "x3", "a1"));
            // Final commands keep their numbers: the next one is still above them.
            await tx.UpdateCommandAsync(Command("x3", "a1", a1[^1]) with { Status = CommandStatus.Acked, CompletedAt = Now }, Ct);
        });
        await WriteAsync(async tx => a1.Add(await AddAsync(tx, "x4", "a1")));

        Assert.Equal(1, a1[0]);
        Assert.True(a1.Zip(a1.Skip(1)).All(pair => pair.First < pair.Second), $"Sequences not increasing: {string.Join(", ", a1)}");
        await WriteAsync(async tx =>
        {
            Assert.True(await tx.NextCommandSequenceAsync("c1", "a1", Ct) > a1[^1]);
            Assert.Equal(2, await tx.NextCommandSequenceAsync("c1", "a2", Ct));
            Assert.Equal(2, await tx.NextCommandSequenceAsync("c2", "a1", Ct));
            Assert.Equal(1, await tx.NextCommandSequenceAsync("c2", "a2", Ct));
        });

        // A sequence cannot be used twice within an agent's stream.
        await Assert.ThrowsAnyAsync<Exception>(() => WriteAsync(tx => tx.InsertCommandAsync(Command("dup", "a1", a1[0]), Ct)));
        Assert.Null(await Store.GetCommandAsync("dup", Ct));
    }

    [Fact]
    public async Task Commands_ListPending_OnlyQueuedAndDelivered_InSequenceOrder()
    {
        var statuses = new[]
        {
            (8, CommandStatus.Delivered), (3, CommandStatus.Acked), (1, CommandStatus.Queued), (5, CommandStatus.Expired),
            (4, CommandStatus.Queued), (2, CommandStatus.Delivered), (6, CommandStatus.Failed), (7, CommandStatus.Rejected),
        };
        await WriteAsync(async tx =>
        {
            foreach (var (sequence, status) in statuses)
            {
                await tx.InsertCommandAsync(Command($"a1-{sequence}", "a1", sequence, status: status), Ct);
            }
            await tx.InsertCommandAsync(Command("a2-1", "a2", 1), Ct);
            await tx.InsertCommandAsync(Command("c2-a1-1", "a1", 1, cluster: "c2"), Ct);
        });

        async Task<long[]> Pending(string cluster, string agentId, long after, int limit) =>
            (await Store.ListPendingCommandsAsync(cluster, agentId, after, limit, Ct)).Select(c => c.Sequence).ToArray();

        Assert.Equal(new long[] { 1, 2, 4, 8 }, await Pending("c1", "a1", 0, 100));
        Assert.Equal(new long[] { 1, 2 }, await Pending("c1", "a1", 0, 2));
        Assert.Equal(new long[] { 4, 8 }, await Pending("c1", "a1", 2, 100));
        Assert.Equal(new long[] { 4 }, await Pending("c1", "a1", 3, 1));
        Assert.Empty(await Pending("c1", "a1", 8, 100));
        Assert.Empty(await Pending("c1", "a1", 0, 0));
        Assert.Equal(new long[] { 1 }, await Pending("c1", "a2", 0, 100));
        Assert.Empty(await Pending("c1", "a3", 0, 100));
        Assert.Equal(["c2-a1-1"], (await Store.ListPendingCommandsAsync("c2", "a1", 0, 100, Ct)).Select(c => c.CommandId));
        Assert.Empty(await Pending("c3", "a1", 0, 100));
        AssertCommand(Command("a1-2", "a1", 2, status: CommandStatus.Delivered), (await Store.ListPendingCommandsAsync("c1", "a1", 1, 1, Ct))[0]);
    }

    [Fact]
    public async Task Commands_ListDue_PendingWithDeadlineAtOrBeforeNow_OldestFirst()
    {
        await WriteAsync(async tx =>
        {
            foreach (var command in new[]
            {
                Command("late", "a1", 1, deadlineAt: Now.AddSeconds(-10)),
                Command("boundary", "a1", 2, status: CommandStatus.Delivered, deadlineAt: Now),
                Command("not-yet", "a1", 3, deadlineAt: Now.AddMilliseconds(1)),
                Command("no-deadline", "a1", 4),
                Command("acked", "a1", 5, status: CommandStatus.Acked, deadlineAt: Now.AddSeconds(-30)),
                Command("expired", "a1", 6, status: CommandStatus.Expired, deadlineAt: Now.AddSeconds(-30)),
                Command("kill", "a2", 1, kind: CommandKind.Kill, status: CommandStatus.Delivered, deadlineAt: Now.AddSeconds(-5)),
                Command("other-cluster", "a1", 1, cluster: "c2", deadlineAt: Now.AddSeconds(-20)),
            })
            {
                await tx.InsertCommandAsync(command, Ct);
            }
        });

        await WriteAsync(async tx =>
        {
            Assert.Equal(["other-cluster", "late", "kill", "boundary"], (await tx.ListDueCommandsAsync(Now, 100, Ct)).Select(c => c.CommandId));
            Assert.Equal(["other-cluster", "late"], (await tx.ListDueCommandsAsync(Now, 2, Ct)).Select(c => c.CommandId));
            Assert.Equal(["other-cluster", "late", "kill"], (await tx.ListDueCommandsAsync(Now.AddMilliseconds(-1), 100, Ct)).Select(c => c.CommandId));
            Assert.Equal(5, (await tx.ListDueCommandsAsync(Now.AddMilliseconds(1), 100, Ct)).Count);
            Assert.Empty(await tx.ListDueCommandsAsync(Now.AddMinutes(-1), 100, Ct));
            AssertCommand(Command("kill", "a2", 1, kind: CommandKind.Kill, status: CommandStatus.Delivered, deadlineAt: Now.AddSeconds(-5)),
                (await tx.ListDueCommandsAsync(Now, 100, Ct))[2]);
        });
    }

    [Fact]
    public async Task Commands_GetPendingKill_OnlyForQueuedOrDeliveredKills()
    {
        var queuedKill = Command("k-queued", "a1", 1, kind: CommandKind.Kill);
        await WriteAsync(async tx =>
        {
            Assert.Null(await tx.GetPendingKillAsync("c1", "a1", Ct));
            await tx.InsertCommandAsync(queuedKill, Ct);
            Assert.NotNull(await tx.GetPendingKillAsync("c1", "a1", Ct));
            await tx.InsertCommandAsync(Command("k-acked", "a2", 1, kind: CommandKind.Kill, status: CommandStatus.Acked), Ct);
            await tx.InsertCommandAsync(Command("steer", "a2", 2), Ct);
            await tx.InsertCommandAsync(Command("message", "a2", 3, kind: CommandKind.Message, status: CommandStatus.Delivered), Ct);
            await tx.InsertCommandAsync(Command("k-delivered", "a3", 1, kind: CommandKind.Kill, status: CommandStatus.Delivered), Ct);
            await tx.InsertCommandAsync(Command("k-expired", "a4", 1, kind: CommandKind.Kill, status: CommandStatus.Expired), Ct);
        });

        await WriteAsync(async tx =>
        {
            Assert.Equal("k-queued", (await tx.GetPendingKillAsync("c1", "a1", Ct))?.CommandId);
            Assert.Null(await tx.GetPendingKillAsync("c1", "a2", Ct));
            Assert.NotNull(await tx.GetPendingKillAsync("c1", "a3", Ct));
            Assert.Null(await tx.GetPendingKillAsync("c1", "a4", Ct));
            Assert.Null(await tx.GetPendingKillAsync("c1", "missing", Ct));
            Assert.Null(await tx.GetPendingKillAsync("c2", "a1", Ct));
            await tx.UpdateCommandAsync(queuedKill with { Status = CommandStatus.Acked, CompletedAt = Now }, Ct);
            Assert.Null(await tx.GetPendingKillAsync("c1", "a1", Ct));
        });
        await WriteAsync(async tx => Assert.Null(await tx.GetPendingKillAsync("c1", "a1", Ct)));
    }

    [Fact]
    public async Task Specializations_OfOneAgent_InsideAWrite_SeeTheWritesOwnChanges()
    {
        await WriteAsync(async tx =>
        {
            await tx.UpsertSpecializationAsync(new SpecializationRecord("c1", "a1", "ocr", null, [], null, Now), Ct);
            await tx.UpsertSpecializationAsync(new SpecializationRecord("c1", "a1", "asr", "speech", ["audio"], "2", Now), Ct);
            await tx.UpsertSpecializationAsync(new SpecializationRecord("c1", "a2", "ocr", null, [], null, Now), Ct);
            await tx.UpsertSpecializationAsync(new SpecializationRecord("c2", "a1", "nlp", null, [], null, Now), Ct);

            var specs = await tx.GetSpecializationsAsync("c1", "a1", Ct);
            Assert.Equal(["asr", "ocr"], specs.Select(s => s.Name));
            Assert.Equal("speech", specs[0].Description);
            Assert.Empty(await tx.GetSpecializationsAsync("c1", "nobody", Ct));
        });
    }

    [Fact]
    public async Task Commands_GetPendingKills_OfTheGivenAgentsOnly()
    {
        await WriteAsync(async tx =>
        {
            await tx.InsertCommandAsync(Command("k1", "a1", 1, kind: CommandKind.Kill), Ct);
            await tx.InsertCommandAsync(Command("k2", "a2", 1, kind: CommandKind.Kill, status: CommandStatus.Delivered), Ct);
            await tx.InsertCommandAsync(Command("k3", "a3", 1, kind: CommandKind.Kill, status: CommandStatus.Acked), Ct);
            await tx.InsertCommandAsync(Command("s4", "a4", 1), Ct);
        });

        var kills = await Store.GetPendingKillsAsync("c1", ["a1", "a2", "a3", "a4", "missing"], Ct);
        Assert.Equal(["k1", "k2"], kills.Select(k => k.CommandId).Order(StringComparer.Ordinal));
        Assert.Empty(await Store.GetPendingKillsAsync("c2", ["a1", "a2"], Ct));
        Assert.Empty(await Store.GetPendingKillsAsync("c1", [], Ct));
    }

    [Fact]
    public async Task Commands_CountByStatus_EveryStatusAcrossClusters()
    {
        var empty = await Store.CountCommandsAsync(Ct);
        Assert.Equal(Enum.GetValues<CommandStatus>().Order(), empty.Keys.Order());
        Assert.All(empty.Values, count => Assert.Equal(0, count));

        await WriteAsync(async tx =>
        {
            await tx.InsertCommandAsync(Command("q1", "a1", 1), Ct);
            await tx.InsertCommandAsync(Command("q2", "a1", 2), Ct);
            await tx.InsertCommandAsync(Command("q3", "a1", 1, cluster: "c2"), Ct);
            await tx.InsertCommandAsync(Command("d1", "a2", 1, status: CommandStatus.Delivered), Ct);
            await tx.InsertCommandAsync(Command("x1", "a2", 2, status: CommandStatus.Expired), Ct);
            await tx.InsertCommandAsync(Command("x2", "a3", 1, kind: CommandKind.Kill, status: CommandStatus.Expired), Ct);
        });

        var counts = await Store.CountCommandsAsync(Ct);
        Assert.Equal(Enum.GetValues<CommandStatus>().Order(), counts.Keys.Order());
        Assert.Equal(3, counts[CommandStatus.Queued]);
        Assert.Equal(1, counts[CommandStatus.Delivered]);
        Assert.Equal(0, counts[CommandStatus.Acked]);
        Assert.Equal(0, counts[CommandStatus.Rejected]);
        Assert.Equal(0, counts[CommandStatus.Failed]);
        Assert.Equal(2, counts[CommandStatus.Expired]);
    }

    [Fact]
    public async Task Commands_RollBackWithTheirTransaction()
    {
        await using (var tx = await Store.BeginWriteAsync(Ct))
        {
            await tx.InsertCommandAsync(Command("cmd-1", "a1", await tx.NextCommandSequenceAsync("c1", "a1", Ct), idempotencyKey: "idem"), Ct);
            Assert.NotNull(await tx.GetCommandAsync("cmd-1", Ct));
        }

        Assert.Null(await Store.GetCommandAsync("cmd-1", Ct));
        Assert.Empty(await Store.ListPendingCommandsAsync("c1", "a1", 0, 100, Ct));
        await WriteAsync(async tx =>
        {
            Assert.Null(await tx.FindCommandByIdempotencyKeyAsync("k-root", "idem", Ct));
            // The key is free again.
            await tx.InsertCommandAsync(Command("cmd-2", "a1", await tx.NextCommandSequenceAsync("c1", "a1", Ct), idempotencyKey: "idem"), Ct);
        });
        Assert.Equal("cmd-2", (await Store.GetCommandAsync("cmd-2", Ct))!.CommandId);
    }

    // ---- Sessions: max runtime ----

    [Fact]
    public async Task ListRuntimeExceededSessions_OpenSessionsPastStartedAtPlusMaxRuntime()
    {
        await SeedSessionsAsync(
            Session("r-boundary", "a1", Now.AddSeconds(10), startedAt: Now.AddSeconds(-60)) with { MaxRuntime = 60 },
            Session("r-almost", "a2", Now.AddSeconds(10), startedAt: Now.AddSeconds(-60).AddMilliseconds(1)) with { MaxRuntime = 60 },
            Session("r-long-ago", "a3", Now.AddSeconds(10), startedAt: Now.AddHours(-1)) with { MaxRuntime = 120 },
            Session("r-unlimited", "a4", Now.AddSeconds(10), startedAt: Now.AddDays(-30)),
            Session("r-ended", "a5", Now.AddSeconds(10), startedAt: Now.AddHours(-1), end: SessionStatus.Left) with { MaxRuntime = 60 },
            Session("r-stale", "a6", Now.AddSeconds(-10), startedAt: Now.AddMinutes(-10)) with { MaxRuntime = 300 },
            Session("r-other", "a1", Now.AddSeconds(10), startedAt: Now.AddHours(-2), cluster: "c2") with { MaxRuntime = 60 });

        await WriteAsync(async tx =>
        {
            var exceeded = await tx.ListRuntimeExceededSessionsAsync(Now, 100, Ct);
            Assert.Equal(["r-boundary", "r-long-ago", "r-other", "r-stale"], SessionIds(exceeded).Order());
            Assert.Equal(Session("r-boundary", "a1", Now.AddSeconds(10), startedAt: Now.AddSeconds(-60)) with { MaxRuntime = 60 },
                exceeded.Single(s => s.SessionId == "r-boundary"));

            Assert.Equal(["r-long-ago", "r-other", "r-stale"], SessionIds(await tx.ListRuntimeExceededSessionsAsync(Now.AddMilliseconds(-1), 100, Ct)).Order());
            Assert.Equal(5, (await tx.ListRuntimeExceededSessionsAsync(Now.AddMilliseconds(1), 100, Ct)).Count);

            var limited = await tx.ListRuntimeExceededSessionsAsync(Now, 2, Ct);
            Assert.Equal(2, limited.Count);
            Assert.Subset(SessionIds(exceeded).ToHashSet(), SessionIds(limited).ToHashSet());
            Assert.Empty(await tx.ListRuntimeExceededSessionsAsync(Now.AddDays(-1), 100, Ct));
        });
    }

    // ---- Events: compaction ----

    [Fact]
    public async Task Revisions_AreEmptyOnAFreshStore()
    {
        Assert.Null(await Store.GetOldestRevisionAsync(Ct));
        Assert.Equal(0, await Store.GetLatestRevisionAsync(Ct));
        await WriteAsync(async tx => Assert.Equal(0, await tx.CompactEventsAsync(100, Ct)));
    }

    [Fact]
    public async Task CompactEvents_DeletesThroughRevision_AndLatestRevisionNeverGoesBack()
    {
        var revisions = new List<long>();
        await WriteAsync(async tx =>
        {
            for (var i = 0; i < 5; i++)
            {
                revisions.Add(await tx.AppendEventAsync(i % 2 == 0 ? "c1" : "c2", "agent.registered", Now.AddSeconds(i), $"a{i}", null, null, Ct));
            }
        });
        Assert.Equal(revisions[0], await Store.GetOldestRevisionAsync(Ct));
        Assert.Equal(revisions[4], await Store.GetLatestRevisionAsync(Ct));

        await WriteAsync(async tx => Assert.Equal(3, await tx.CompactEventsAsync(revisions[2], Ct)));
        Assert.Equal(revisions[3..], (await Store.ListEventsAsync(null, 0, 100, Ct)).Select(e => e.Revision));
        Assert.Equal([revisions[4]], (await Store.ListEventsAsync("c1", 0, 100, Ct)).Select(e => e.Revision));
        Assert.Equal(revisions[3], await Store.GetOldestRevisionAsync(Ct));
        Assert.Equal(revisions[4], await Store.GetLatestRevisionAsync(Ct));

        // Nothing left at or below: nothing deleted. Rolled back: nothing deleted.
        await WriteAsync(async tx => Assert.Equal(0, await tx.CompactEventsAsync(revisions[2], Ct)));
        await using (var rolledBack = await Store.BeginWriteAsync(Ct))
        {
            Assert.Equal(2, await rolledBack.CompactEventsAsync(long.MaxValue, Ct));
        }
        Assert.Equal(revisions[3], await Store.GetOldestRevisionAsync(Ct));

        await WriteAsync(async tx => Assert.Equal(2, await tx.CompactEventsAsync(revisions[4], Ct)));
        Assert.Empty(await Store.ListEventsAsync(null, 0, 100, Ct));
        Assert.Null(await Store.GetOldestRevisionAsync(Ct));
        Assert.Equal(revisions[4], await Store.GetLatestRevisionAsync(Ct));

        // The latest revision survives a restart with every event gone, and new events continue above it.
        await CloseStoreAsync();
        await using var reopened = await ReopenStoreAsync(Ct);
        await reopened.MigrateAsync(Ct);
        Assert.Equal(revisions[4], await reopened.GetLatestRevisionAsync(Ct));
        long next;
        await using (var tx = await reopened.BeginWriteAsync(Ct))
        {
            next = await tx.AppendEventAsync("c1", "session.joined", Now.AddSeconds(10), "a9", "s9", null, Ct);
            await tx.CommitAsync(Ct);
        }
        Assert.True(next > revisions[4], $"Revision {next} reused one at or below {revisions[4]}.");
        Assert.Equal(next, await reopened.GetOldestRevisionAsync(Ct));
        Assert.Equal(next, await reopened.GetLatestRevisionAsync(Ct));
        Assert.Equal([next], (await reopened.ListEventsAsync(null, revisions[4], 100, Ct)).Select(e => e.Revision));
    }

    // ---- Fixtures ----

    /// <summary>
    /// Sessions of cluster c1 covering every status at <see cref="Now"/> (TTL 30 s), edges
    /// included, and parents in every state for orphan detection; plus one session in c2.
    /// </summary>
    protected async Task SeedStatusFixtureAsync() => await WriteAsync(async tx =>
    {
        var sessions = new (string Agent, string? Parent, SessionRecord Session)[]
        {
            ("p-alive", null, Session("s01-p-alive", "p-alive", Now.AddSeconds(10))),
            ("p-stale", null, Session("s02-p-stale", "p-stale", Now.AddSeconds(-10))),
            ("p-gone", null, Session("s03-p-gone", "p-gone", Now.AddSeconds(10), end: SessionStatus.Left)),
            ("p-overdue", null, Session("s04-p-overdue", "p-overdue", Now.AddSeconds(-31))),
            ("idle", null, Session("s05-idle", "idle", Now.AddSeconds(10), idle: true)),
            ("edge-active", null, Session("s06-edge-active", "edge-active", Now)),
            ("edge-stale", null, Session("s07-edge-stale", "edge-stale", Now.AddSeconds(-30))),
            ("killed", null, Session("s08-killed", "killed", Now.AddSeconds(10), end: SessionStatus.Killed)),
            ("c-of-alive", "p-alive", Session("s09-c-of-alive", "c-of-alive", Now.AddSeconds(10))),
            ("c-of-stale", "p-stale", Session("s10-c-of-stale", "c-of-stale", Now.AddSeconds(10))),
            ("c-of-gone", "p-gone", Session("s11-c-of-gone", "c-of-gone", Now.AddSeconds(10), idle: true)),
            ("c-of-overdue", "p-overdue", Session("s12-c-of-overdue", "c-of-overdue", Now.AddSeconds(10))),
            ("c-of-never", "never-joined", Session("s13-c-of-never", "c-of-never", Now.AddSeconds(10))),
            ("c-stale-of-gone", "p-gone", Session("s14-c-stale-of-gone", "c-stale-of-gone", Now.AddSeconds(-10))),
            ("p-alive", null, Session("s15-p-alive-old", "p-alive", Now.AddSeconds(-3600), end: SessionStatus.Superseded, startedAt: Now.AddHours(-2))),
            ("p-gone", null, Session("s16-p-gone-old", "p-gone", Now.AddSeconds(-7200), end: SessionStatus.Expired, startedAt: Now.AddHours(-3))),
        };
        await tx.UpsertAgentAsync(Agent("never-joined"), Ct);
        foreach (var (agent, parent, session) in sessions)
        {
            await tx.UpsertAgentAsync(Agent(agent, parentId: parent), Ct);
            await tx.InsertSessionAsync(session, Ct);
        }
        await tx.UpsertAgentAsync(Agent("p-alive", cluster: "c2"), Ct);
        await tx.InsertSessionAsync(Session("s00-other", "p-alive", Now.AddSeconds(10), cluster: "c2"), Ct);
    });

    /// <summary>Agents of the "vision" specialization in every state, with loads chosen to test the order.</summary>
    protected async Task SeedRegistryFixtureAsync() => await WriteAsync(async tx =>
    {
        var agents = new (string Agent, SessionRecord? Session)[]
        {
            ("a-never", null),
            ("b-stale", Session("s-b", "b-stale", Now.AddSeconds(-5), load: 0.1)),
            ("c-alive", Session("s-c", "c-alive", Now.AddSeconds(10), load: 0.9)),
            ("d-alive", Session("s-d", "d-alive", Now.AddSeconds(10), load: 0.2)),
            ("e-alive", Session("s-e", "e-alive", Now.AddSeconds(10), idle: true)),
            ("f-alive", Session("s-f", "f-alive", Now.AddSeconds(10), load: 0.2, idle: true)),
            ("g-ended", Session("s-g", "g-ended", Now.AddSeconds(10), load: 0.0, end: SessionStatus.Killed)),
        };
        foreach (var (agent, session) in agents)
        {
            await tx.UpsertAgentAsync(Agent(agent), Ct);
            await tx.UpsertSpecializationAsync(Specialization(agent, "vision"), Ct);
            if (session is not null)
            {
                await tx.InsertSessionAsync(session, Ct);
            }
        }
        await tx.UpsertSpecializationAsync(Specialization("c-alive", "audio"), Ct);
        await tx.UpsertSpecializationAsync(Specialization("a-never", "audio"), Ct);
        await tx.UpsertAgentAsync(Agent("x", cluster: "c2"), Ct);
        await tx.UpsertSpecializationAsync(Specialization("x", "vision", cluster: "c2"), Ct);
    });

    /// <summary>Inserts sessions, each with its agent.</summary>
    protected async Task SeedSessionsAsync(params SessionRecord[] sessions) => await WriteAsync(async tx =>
    {
        foreach (var session in sessions)
        {
            await tx.UpsertAgentAsync(Agent(session.AgentId, cluster: session.Cluster), Ct);
            await tx.InsertSessionAsync(session, Ct);
        }
    });

    private static async Task SeedAgentWithSessionAsync(IMeshWriteTransaction tx, AgentRecord agent)
    {
        await tx.UpsertAgentAsync(agent, Ct);
        await tx.InsertSessionAsync(Session("s-" + agent.AgentId, agent.AgentId, Now.AddSeconds(10), cluster: agent.Cluster), Ct);
    }

    // ---- Helpers ----

    protected async Task WriteAsync(Func<IMeshWriteTransaction, Task> write)
    {
        await using var tx = await Store.BeginWriteAsync(Ct);
        await write(tx);
        await tx.CommitAsync(Ct);
    }

    /// <summary>Disposes the test's store early, e.g. before reopening its data.</summary>
    protected async Task CloseStoreAsync()
    {
        if (_store is { } store)
        {
            _store = null;
            await store.DisposeAsync();
        }
    }

    protected static AgentRecord Agent(string agentId, string? parentId = null, Dictionary<string, string>? labels = null, string cluster = "c1") =>
        new(cluster, agentId, parentId, labels ?? new Dictionary<string, string>(), Now.AddHours(-1), Now.AddMinutes(-30));

    /// <summary>A session whose lease runs to <paramref name="expiresAt"/>, last seen one TTL before it.</summary>
    protected static SessionRecord Session(
        string sessionId, string agentId, DateTimeOffset expiresAt, int ttl = 30, double? load = null, bool idle = false,
        SessionStatus? end = null, DateTimeOffset? startedAt = null, string cluster = "c1") =>
        new(sessionId, cluster, agentId, ttl,
            StartedAt: startedAt ?? Now.AddHours(-1),
            LastSeen: expiresAt.AddSeconds(-ttl),
            ExpiresAt: expiresAt,
            Load: load,
            Idle: idle,
            MaxRuntime: null,
            EndStatus: end,
            EndedAt: end is null ? null : Now.AddSeconds(-1),
            EndReason: end is null ? null : "test");

    /// <summary>An open session with every progress, stall and budget field set.</summary>
    protected static SessionRecord Tracked(string sessionId, string agentId) =>
        Session(sessionId, agentId, Now.AddSeconds(20)) with
        {
            Progress = new AgentProgress { Tokens = 1200, ToolCalls = 7, Turns = 3, CostUsd = 0.125, Activity = "reading the repo" },
            ProgressedAt = Now.AddSeconds(-10),
            StallAfter = 300,
            OnStall = "message",
            StallNotified = true,
            Budget = new AgentBudget { Tokens = 100_000, ToolCalls = 500, Turns = 50, CostUsd = 5, Runtime = 3600 },
            BudgetUsed = new AgentProgress { Tokens = 1200, ToolCalls = 7, Turns = 3, CostUsd = 0.125 },
            ChargeTo = ["s-parent", "s-root"],
            BudgetAlert = "warned",
        };

    protected static SpecializationRecord Specialization(
        string agentId, string name, string? description = null, string[]? tags = null, string? version = null, string cluster = "c1") =>
        new(cluster, agentId, name, description, tags ?? [], version, Now.AddMinutes(-10));

    protected static ApiKeyRecord Key(
        string keyId, string cluster = "c1", MeshScopes scopes = MeshScopes.Read, string? agentId = null, DateTimeOffset? expiresAt = null) =>
        new(keyId, [1, 2, 3, (byte)keyId.Length], cluster, scopes, agentId, "name of " + keyId, Now.AddDays(-1), expiresAt, null, "root", null);

    protected static JsonElement Json(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    /// <summary>A command with just the fields a test varies; the rest take plain values.</summary>
    protected static CommandRecord Command(
        string commandId, string agentId, long sequence, CommandKind kind = CommandKind.Steer, CommandStatus status = CommandStatus.Queued,
        DateTimeOffset? deadlineAt = null, string cluster = "c1", string createdBy = "k-root", string? idempotencyKey = null) =>
        new(commandId, cluster, agentId, kind, status, sequence,
            Direction: null, Mode: null, Text: "text of " + commandId, From: null, Reason: null,
            GracePeriod: kind == CommandKind.Kill ? 30 : null, Payload: null, Result: null,
            CreatedAt: Now.AddMinutes(-1), DeliveredAt: status == CommandStatus.Queued ? null : Now.AddSeconds(-50),
            CompletedAt: status is CommandStatus.Queued or CommandStatus.Delivered ? null : Now.AddSeconds(-40),
            DeadlineAt: deadlineAt, CreatedBy: createdBy, IdempotencyKey: idempotencyKey,
            DeliveryCount: status == CommandStatus.Queued ? 0 : 1);

    private static string[] SessionIds(IEnumerable<SessionRecord> sessions) => sessions.Select(s => s.SessionId).ToArray();

    private static string[] AgentIds(IEnumerable<AgentRecord> agents) => agents.Select(a => a.AgentId).ToArray();

    private static void AssertAgent(AgentRecord expected, AgentRecord? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected with { Labels = actual.Labels }, actual);
        Assert.Equal(expected.Labels.OrderBy(l => l.Key, StringComparer.Ordinal), actual.Labels.OrderBy(l => l.Key, StringComparer.Ordinal));
    }

    /// <summary>Sessions compare as records, but the charge list by its items.</summary>
    protected static void AssertSession(SessionRecord expected, SessionRecord? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected with { ChargeTo = null }, actual with { ChargeTo = null });
        Assert.Equal(expected.ChargeTo, actual.ChargeTo);
    }

    private static void AssertSpecialization(SpecializationRecord expected, SpecializationRecord? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected with { Tags = actual.Tags }, actual);
        Assert.Equal(expected.Tags, actual.Tags);
    }

    /// <summary>JSON compares by value, since a backend may reformat what it stores.</summary>
    private static void AssertCommand(CommandRecord expected, CommandRecord? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected with { Payload = null, Result = null }, actual with { Payload = null, Result = null });
        AssertJson(expected.Payload, actual.Payload);
        AssertJson(expected.Result, actual.Result);
    }

    private static void AssertJson(JsonElement? expected, JsonElement? actual)
    {
        Assert.Equal(expected.HasValue, actual.HasValue);
        if (expected is { } e)
        {
            Assert.True(JsonElement.DeepEquals(e, actual!.Value), $"Expected {e.GetRawText()}, got {actual.Value.GetRawText()}.");
        }
    }

    private static void AssertKey(ApiKeyRecord expected, ApiKeyRecord? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected with { SecretHash = actual.SecretHash }, actual);
        Assert.Equal(expected.SecretHash, actual.SecretHash);
    }
}
