using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using SessionMesh.Mesh;
using SessionMesh.Model;

namespace SessionMesh.Tests.Mesh;

/// <summary>
/// <see cref="RecentEvents"/> over its encoded archive against a plain model: any run of publishes (in and out of
/// order, repeated revisions, data from nothing to larger than a chunk) under any count and byte budget reads back
/// exactly the events a model holding the same newest ones would, decoded or not, while chunks are emptied and reused.
/// </summary>
public sealed class RecentEventsPropertyTests
{
    private static readonly DateTimeOffset s_at = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    /// <summary>The data size of each event, revision by revision: mostly small, some large, some larger than a chunk.</summary>
    private static readonly Gen<int[]> s_sizes = Gen.Frequency(
            (30, Gen.Choose(0, 300)),
            (20, Gen.Choose(500, 3_000)),
            (2, Gen.Choose(20_000, 40_000)),
            (1, Gen.Constant(EventArchive.ChunkSize + 1)))
        .ArrayOf().Resize(1_500);

    [Fact]
    public void Any_run_of_publishes_reads_back_what_a_model_holds()
    {
        // Past the newest 256 events reads decode them; with 1,000 held of a few KB, emptied chunks come back into use.
        var budgets = Gen.Elements(3, 300, 1_000, 10_000).Zip(Gen.Elements(1_024L, 100_000L, 2_000_000L, RecentEvents.DefaultMaxBytes));
        var runs = budgets.Zip(s_sizes).Zip(Gen.Choose(0, int.MaxValue));
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(60).WithQuietOnSuccess(true), Prop.ForAll(runs.ToArbitrary(), run =>
        {
            var (((capacity, maxBytes), sizes), seed) = run;
            var random = new Random(seed);
            // Revisions 1..n, each a little out of order (as racing commits publish), some published twice.
            var order = Enumerable.Range(1, sizes.Length).ToArray();
            for (var i = 1; i < order.Length; i++)
            {
                if (random.Next(4) == 0)
                {
                    (order[i - 1], order[i]) = (order[i], order[i - 1]);
                }
            }
            var recent = new RecentEvents(capacity, maxBytes);
            var published = new Dictionary<long, MeshEventRecord>();
            for (var next = 0; next < order.Length;)
            {
                var batch = order.Skip(next).Take(random.Next(1, 5)).ToList();
                next += batch.Count;
                if (random.Next(6) == 0 && published.Count > 0)
                {
                    batch.Add((int)published.Keys.Max());
                }
                var events = batch.Select(r => published.GetValueOrDefault(r) ?? Event(r, sizes[r - 1])).ToList();
                recent.Publish(events);
                foreach (var e in events)
                {
                    published.TryAdd(e.Revision, e);
                }

                // Whatever memory answers must be exactly what was published, decoded or not.
                for (var probe = 0; probe < 3; probe++)
                {
                    var after = (long)random.Next((int)published.Keys.Max() + 1);
                    if (recent.TryRead(null, after, 50, static _ => true) is not { } read)
                    {
                        continue;
                    }
                    var expected = published.Keys.Where(r => r > after && r <= read.Through).Order().ToList();
                    Assert.Equal(expected, read.Events.Select(e => e.Revision));
                    foreach (var e in read.Events)
                    {
                        var original = published[e.Revision];
                        Assert.Equal(original with { Data = null }, e with { Data = null });
                        Assert.Equal(original.Data?.GetRawText(), e.Data?.GetRawText());
                    }
                }
            }
            // Once everything is published without a gap, memory answers for the newest events at least.
            if (published.Count > 0)
            {
                Assert.NotNull(recent.TryRead(null, published.Keys.Max() - 1, int.MaxValue, static _ => true));
            }
            Assert.InRange(recent.Bytes, 0, Math.Max(maxBytes, EventArchive.ChunkSize + 1_000));
        }));
    }

    private static MeshEventRecord Event(int revision, int size) => new(
        revision, revision % 3 == 0 ? "b" : "a", "command.queued", s_at.AddMilliseconds(revision), revision % 2 == 0 ? null : "agent-" + revision, null,
        size == 0 ? null : JsonElement.Parse($$"""{"r":{{revision}},"fill":"{{new string((char)('a' + revision % 26), size)}}"}"""));
}
