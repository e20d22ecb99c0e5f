using SessionMesh.Model;

namespace SessionMesh.Tests.Store;

public abstract partial class MeshStoreContractTests
{
    // ---- Session-bound locks ----

    [Fact]
    public async Task Locks_RoundTrip_EveryField_AndOneRowPerName()
    {
        var held = Lock("repo/main", "s1", expiresAt: Now.AddSeconds(30)) with { Metadata = new Dictionary<string, string> { ["why"] = "release ünïcode" } };
        await WriteAsync(tx => tx.UpsertLockAsync(held, Ct));
        Assert.Equal(held with { Metadata = held.Metadata }, await Store.GetLockAsync("c1", "repo/main", Ct), new LockComparer());

        // Same (cluster, name): the row is replaced, never doubled; another cluster's lock of the same name is another row.
        var next = Lock("repo/main", "s2", revision: 9);
        await WriteAsync(async tx =>
        {
            await tx.UpsertLockAsync(next, Ct);
            await tx.UpsertLockAsync(Lock("repo/main", "s3", cluster: "c2"), Ct);
            Assert.Equal("s2", (await tx.GetLockAsync("c1", "repo/main", Ct))?.SessionId);
        });
        Assert.Equal(next, await Store.GetLockAsync("c1", "repo/main", Ct), new LockComparer());
        Assert.Equal("s3", (await Store.GetLockAsync("c2", "repo/main", Ct))?.SessionId);
        Assert.Null(await Store.GetLockAsync("c1", "repo", Ct));
    }

    [Fact]
    public async Task Locks_List_HeldOnly_ByName_Paged_PerCluster()
    {
        await WriteAsync(async tx =>
        {
            foreach (var name in new[] { "b", "a/z", "a", "c" })
            {
                await tx.UpsertLockAsync(Lock(name, "s1"), Ct);
            }
            await tx.UpsertLockAsync(Lock("delayed", "s1") with { ReleasedAt = Now, DelayUntil = Now.AddSeconds(5) }, Ct);
            await tx.UpsertLockAsync(Lock("other", "s9", cluster: "c2"), Ct);
        });

        var first = await Store.ListLocksAsync("c1", null, 2, Ct);
        var rest = await Store.ListLocksAsync("c1", first[^1].Name, 10, Ct);

        Assert.Equal(["a", "a/z"], first.Select(l => l.Name));
        Assert.Equal(["b", "c"], rest.Select(l => l.Name));
        Assert.Equal(["other"], (await Store.ListLocksAsync("c2", null, 10, Ct)).Select(l => l.Name));
        Assert.False((await Store.GetLockAsync("c1", "delayed", Ct))!.IsHeld);
    }

    [Fact]
    public async Task Locks_HeldBy_Expired_AndLapsedDelays_AreFoundInTheWrite()
    {
        await WriteAsync(async tx =>
        {
            await tx.UpsertLockAsync(Lock("mine-1", "s1", cluster: "c2"), Ct);
            await tx.UpsertLockAsync(Lock("mine-2", "s1", expiresAt: Now.AddSeconds(-1)), Ct);
            await tx.UpsertLockAsync(Lock("theirs", "s2", expiresAt: Now), Ct);
            await tx.UpsertLockAsync(Lock("later", "s2", expiresAt: Now.AddMilliseconds(1)), Ct);
            await tx.UpsertLockAsync(Lock("ended", "s1") with { ReleasedAt = Now.AddSeconds(-5), DelayUntil = Now }, Ct);
            await tx.UpsertLockAsync(Lock("delaying", "s1") with { ReleasedAt = Now.AddSeconds(-5), DelayUntil = Now.AddSeconds(1) }, Ct);
        });

        await WriteAsync(async tx =>
        {
            Assert.Equal([("c1", "mine-2"), ("c2", "mine-1")], (await tx.ListLocksHeldByAsync("s1", Ct)).Select(l => (l.Cluster, l.Name)).Order());
            Assert.Equal(["mine-2", "theirs"], (await tx.ListExpiredLocksAsync(Now, 10, Ct)).Select(l => l.Name));
            Assert.Equal(["mine-2"], (await tx.ListExpiredLocksAsync(Now, 1, Ct)).Select(l => l.Name));
            Assert.Equal(1, await tx.DeleteLapsedLockDelaysAsync(Now, Ct));
            Assert.True(await tx.DeleteLockAsync("c1", "theirs", Ct));
            Assert.False(await tx.DeleteLockAsync("c1", "theirs", Ct));
        });

        Assert.Null(await Store.GetLockAsync("c1", "ended", Ct));
        Assert.Null(await Store.GetLockAsync("c1", "theirs", Ct));
        Assert.NotNull(await Store.GetLockAsync("c1", "delaying", Ct));
    }

    [Fact]
    public async Task Locks_RolledBackWrite_KeepsNothing()
    {
        await using (var tx = await Store.BeginWriteAsync(Ct))
        {
            await tx.UpsertLockAsync(Lock("gone", "s1"), Ct);
        }
        Assert.Null(await Store.GetLockAsync("c1", "gone", Ct));
    }

    protected static LockRecord Lock(string name, string sessionId, string cluster = "c1", DateTimeOffset? expiresAt = null, long revision = 7) =>
        new(cluster, name, sessionId, "agent-" + sessionId, Now.AddMinutes(-1), expiresAt, expiresAt is null ? null : 60, 3,
            new Dictionary<string, string>(), revision);

    /// <summary>Records compare their metadata by reference; locks are equal when every field and metadata pair is.</summary>
    private sealed class LockComparer : IEqualityComparer<LockRecord?>
    {
        public bool Equals(LockRecord? x, LockRecord? y) =>
            x is not null && y is not null
            && x with { Metadata = y.Metadata } == y
            && x.Metadata.OrderBy(p => p.Key, StringComparer.Ordinal).SequenceEqual(y.Metadata.OrderBy(p => p.Key, StringComparer.Ordinal));

        public int GetHashCode(LockRecord? obj) => obj?.Name.GetHashCode(StringComparison.Ordinal) ?? 0;
    }
}
