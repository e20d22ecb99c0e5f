using SessionMesh.Mesh;
using SessionMesh.Model;

namespace SessionMesh.Tests.Mesh;

public sealed class RecentEventsTests
{
    private static readonly DateTimeOffset s_at = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);

    private static MeshEventRecord Event(long revision, string cluster = "default", string type = "session.joined") =>
        new(revision, cluster, type, s_at, "a", null, null);

    private static bool All(MeshEventRecord e) => true;

    [Fact]
    public void Nothing_is_answered_from_memory_before_the_first_publish()
    {
        var recent = new RecentEvents(10);
        Assert.Null(recent.TryRead(null, 0, 100, All));
    }

    [Fact]
    public void Events_after_the_first_published_one_are_answered_from_memory_and_older_ones_by_the_store()
    {
        var recent = new RecentEvents(10);
        recent.Publish([Event(5), Event(6)]);
        recent.Publish([Event(7)]);

        var read = recent.TryRead(null, 4, 100, All);
        Assert.NotNull(read);
        Assert.Equal([5L, 6L, 7L], read.Value.Events.Select(e => e.Revision));
        Assert.Equal(7, read.Value.Through);
        Assert.False(read.Value.Full);
        Assert.Equal([7L], recent.TryRead(null, 6, 100, All)!.Value.Events.Select(e => e.Revision));
        Assert.Empty(recent.TryRead(null, 7, 100, All)!.Value.Events);
        // Revision 4 and before were committed before this server published anything.
        Assert.Null(recent.TryRead(null, 3, 100, All));
    }

    [Fact]
    public void A_gap_sends_reads_to_the_store_until_the_missing_commit_is_published()
    {
        var recent = new RecentEvents(10);
        recent.Publish([Event(1)]);
        recent.Publish([Event(3)]);
        Assert.Null(recent.TryRead(null, 0, 100, All));

        recent.Publish([Event(2)]);
        Assert.Equal([1L, 2L, 3L], recent.TryRead(null, 0, 100, All)!.Value.Events.Select(e => e.Revision));
    }

    [Fact]
    public void A_full_page_ends_at_its_last_event_and_says_more_may_follow()
    {
        var recent = new RecentEvents(10);
        recent.Publish([Event(1), Event(2), Event(3), Event(4)]);

        var read = recent.TryRead(null, 0, 2, All)!.Value;
        Assert.Equal([1L, 2L], read.Events.Select(e => e.Revision));
        Assert.Equal(2, read.Through);
        Assert.True(read.Full);
        var rest = recent.TryRead(null, read.Through, 2, All)!.Value;
        Assert.Equal([3L, 4L], rest.Events.Select(e => e.Revision));
        Assert.False(rest.Full);
    }

    [Fact]
    public void Reads_keep_to_the_cluster_and_the_visibility_rule_and_still_cover_what_they_skipped()
    {
        var recent = new RecentEvents(10);
        recent.Publish([Event(1, "a"), Event(2, "b"), Event(3, "a", "key.created"), Event(4, "a")]);

        var read = recent.TryRead("a", 0, 100, e => !e.Type.StartsWith("key.", StringComparison.Ordinal))!.Value;
        Assert.Equal([1L, 4L], read.Events.Select(e => e.Revision));
        Assert.Equal(4, read.Through);
        Assert.Empty(recent.TryRead("c", 0, 100, All)!.Value.Events);
    }

    [Fact]
    public void Past_its_capacity_the_oldest_events_go_to_the_store()
    {
        var recent = new RecentEvents(3);
        recent.Publish([Event(1), Event(2), Event(3), Event(4), Event(5)]);

        Assert.Null(recent.TryRead(null, 1, 100, All));
        Assert.Equal([3L, 4L, 5L], recent.TryRead(null, 2, 100, All)!.Value.Events.Select(e => e.Revision));
    }

    [Fact]
    public void Past_its_byte_budget_the_oldest_events_go_to_the_store_however_few_they_are()
    {
        // Each event weighs its data's JSON plus 256: about 10 KB here, so a 25 KB budget holds two.
        var recent = new RecentEvents(1000, maxBytes: 25_000);
        recent.Publish([Heavy(1), Heavy(2), Heavy(3), Heavy(4)]);

        Assert.Null(recent.TryRead(null, 1, 100, All));
        Assert.Equal([3L, 4L], recent.TryRead(null, 2, 100, All)!.Value.Events.Select(e => e.Revision));
        Assert.InRange(recent.Bytes, 20_000, 25_000);
    }

    [Fact]
    public void An_event_larger_than_the_whole_budget_is_still_kept_while_it_is_the_newest()
    {
        var recent = new RecentEvents(1000, maxBytes: 5_000);
        recent.Publish([Heavy(1), Heavy(2)]);

        Assert.Equal([2L], recent.TryRead(null, 1, 100, All)!.Value.Events.Select(e => e.Revision));
    }

    [Fact]
    public void The_newest_events_are_read_as_published_and_older_ones_decoded_equal()
    {
        var total = RecentEvents.HotEvents + 50;
        var recent = new RecentEvents(10_000);
        var published = Enumerable.Range(1, total)
            .Select(r => Event(r, r % 2 == 0 ? "a" : "b") with { Data = System.Text.Json.JsonElement.Parse($$"""{"n":{{r}}}""") })
            .ToList();
        foreach (var e in published)
        {
            recent.Publish([e]);
        }

        var read = recent.TryRead(null, 0, 10_000, All)!.Value.Events;

        Assert.Equal(published.Select(e => e.Revision), read.Select(e => e.Revision));
        for (var i = 0; i < total; i++)
        {
            var hot = i >= total - RecentEvents.HotEvents;
            Assert.Equal(hot, ReferenceEquals(published[i], read[i]));
            Assert.Equal(published[i] with { Data = null }, read[i] with { Data = null });
            Assert.Equal(published[i].Data!.Value.GetRawText(), read[i].Data!.Value.GetRawText());
        }
        Assert.Equal(published.Where(e => e.Cluster == "a").Select(e => e.Revision), recent.TryRead("a", 0, 10_000, All)!.Value.Events.Select(e => e.Revision));
    }

    private static MeshEventRecord Heavy(long revision) =>
        Event(revision) with { Data = System.Text.Json.JsonDocument.Parse($$"""{"blob":"{{new string('x', 10_000)}}"}""").RootElement.Clone() };
}
