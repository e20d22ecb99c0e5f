using FsCheck;
using FsCheck.Fluent;
using SessionMesh.Mesh;
using SessionMesh.Model;

namespace SessionMesh.Tests.Mesh;

/// <summary>
/// The ring under <see cref="RecentEvents"/> against a sorted list: any run of inserts (in and out of order,
/// repeated revisions) and drops of the oldest, past its growth and around its wrap, holds the same events in the same
/// order and finds the same positions.
/// </summary>
public sealed class EventRingTests
{
    private static readonly DateTimeOffset s_at = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    /// <summary>A step: insert this revision (positive), or drop the oldest (0).</summary>
    private static readonly Gen<int[]> s_steps = Gen.Frequency(
            (3, Gen.Choose(1, 200)),
            (1, Gen.Constant(0)))
        .ArrayOf();

    private static HeldEvent Held(long revision) => new(revision, default, new MeshEventRecord(revision, "default", "session.joined", s_at, "a", null, null));

    [Fact]
    public void Any_run_of_inserts_and_drops_matches_a_sorted_list()
    {
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(500).WithQuietOnSuccess(true), Prop.ForAll(s_steps.ToArbitrary(), steps =>
        {
            var ring = new EventRing();
            var model = new SortedList<long, HeldEvent>();
            foreach (var step in steps)
            {
                if (step == 0)
                {
                    if (model.Count > 0)
                    {
                        Assert.Equal(model.Keys[0], ring.RemoveOldest().Revision);
                        model.RemoveAt(0);
                    }
                    continue;
                }
                var e = Held(step);
                Assert.Equal(model.TryAdd(step, e), ring.TryAdd(e));
            }

            Assert.Equal(model.Keys, Enumerable.Range(0, ring.Count).Select(i => ring[i].Revision));
            foreach (var probe in new long[] { 0, 1, 50, 100, 150, 200, 201 })
            {
                Assert.Equal(model.Keys.Count(k => k <= probe), ring.FirstAfter(probe));
            }
        }));
    }

    [Fact]
    public void Appending_and_dropping_past_many_wraps_keeps_the_newest_in_order()
    {
        var ring = new EventRing();
        for (long revision = 1; revision <= 10_000; revision++)
        {
            ring.TryAdd(Held(revision));
            if (ring.Count > 10)
            {
                ring.RemoveOldest();
            }
        }

        Assert.Equal(Enumerable.Range(9_991, 10).Select(r => (long)r), Enumerable.Range(0, ring.Count).Select(i => ring[i].Revision));
    }
}
