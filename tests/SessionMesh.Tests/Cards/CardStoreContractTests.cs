using SessionMesh.Model;
using SessionMesh.Store;

namespace SessionMesh.Tests.Cards;

/// <summary>The card part of the store contract, run against SQLite and PostgreSQL.</summary>
public abstract class CardStoreContractTests : IAsyncLifetime
{
    private static readonly DateTimeOffset s_now = new(2030, 6, 1, 12, 0, 0, TimeSpan.Zero);

    // Kept as given: member order, non-ASCII text, fields A2A does not define, a duplicate-looking key in a nested object.
    private const string CardText = """{"name":"Réviseur","zeta":1,"alpha":{"b":2,"a":1},"skills":[{"id":"s"}]}""";

    private IMeshStore? _store;

    protected IMeshStore Store => _store ?? throw new InvalidOperationException("No store yet.");

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    protected abstract Task<IMeshStore> CreateStoreAsync(CancellationToken cancellationToken);

    /// <summary>Another store over the same data, as after a restart.</summary>
    protected abstract IMeshStore Reopen();

    public async ValueTask InitializeAsync() => _store = await CreateStoreAsync(Ct);

    public virtual async ValueTask DisposeAsync()
    {
        if (_store is not null)
        {
            await _store.DisposeAsync();
        }
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task A_card_is_stored_as_given_replaced_and_deleted_and_survives_a_restart()
    {
        await WriteAsync(tx => tx.UpsertCardAsync(new AgentCardRecord("c1", "a1", CardText, s_now), Ct));
        Assert.Equal(new AgentCardRecord("c1", "a1", CardText, s_now), await Store.GetCardAsync("c1", "a1", Ct));

        await using (var reopened = Reopen())
        {
            Assert.Equal(CardText, (await reopened.GetCardAsync("c1", "a1", Ct))!.Card);
        }

        var replaced = new AgentCardRecord("c1", "a1", """{"name":"second"}""", s_now.AddMinutes(1));
        await WriteAsync(async tx =>
        {
            Assert.Equal(CardText, (await tx.GetCardAsync("c1", "a1", Ct))!.Card);
            await tx.UpsertCardAsync(replaced, Ct);
            Assert.Equal(replaced, await tx.GetCardAsync("c1", "a1", Ct));
        });
        Assert.Equal(replaced, await Store.GetCardAsync("c1", "a1", Ct));

        var deleted = false;
        var again = true;
        await WriteAsync(async tx =>
        {
            deleted = await tx.DeleteCardAsync("c1", "a1", Ct);
            again = await tx.DeleteCardAsync("c1", "a1", Ct);
        });
        Assert.True(deleted);
        Assert.False(again);
        Assert.Null(await Store.GetCardAsync("c1", "a1", Ct));
    }

    [Fact]
    public async Task Cards_are_read_per_cluster_and_only_for_the_agents_asked()
    {
        await WriteAsync(async tx =>
        {
            await tx.UpsertCardAsync(new AgentCardRecord("c1", "a1", "{\"n\":1}", s_now), Ct);
            await tx.UpsertCardAsync(new AgentCardRecord("c1", "a2", "{\"n\":2}", s_now), Ct);
            await tx.UpsertCardAsync(new AgentCardRecord("c2", "a1", "{\"n\":3}", s_now), Ct);
        });

        var cards = await Store.GetCardsAsync("c1", ["a2", "a1", "no-card"], Ct);

        Assert.Equal(["a1", "a2"], cards.Select(c => c.AgentId));
        Assert.All(cards, c => Assert.Equal("c1", c.Cluster));
        Assert.Equal("{\"n\":3}", (await Store.GetCardAsync("c2", "a1", Ct))!.Card);
        Assert.Null(await Store.GetCardAsync("c2", "a2", Ct));
        Assert.Empty(await Store.GetCardsAsync("c1", [], Ct));
    }

    [Fact]
    public async Task A_card_written_in_a_transaction_rolled_back_is_not_kept()
    {
        await using (var tx = await Store.BeginWriteAsync(Ct))
        {
            await tx.UpsertCardAsync(new AgentCardRecord("c1", "a1", "{}", s_now), Ct);
        }

        Assert.Null(await Store.GetCardAsync("c1", "a1", Ct));
    }

    private async Task WriteAsync(Func<IMeshWriteTransaction, Task> write)
    {
        await using var tx = await Store.BeginWriteAsync(Ct);
        await write(tx);
        await tx.CommitAsync(Ct);
    }
}
