using System.Text.Json;
using SessionMesh.Mesh;
using SessionMesh.Model;

namespace SessionMesh.Tests.Mesh;

/// <summary>The encoded events under <see cref="RecentEvents"/>: every field comes back as it went in, and chunks are reused.</summary>
public sealed class EventArchiveTests
{
    private static readonly DateTimeOffset s_at = new(2026, 11, 30, 12, 0, 0, 123, TimeSpan.Zero);

    public static TheoryData<string, MeshEventRecord> Events => new()
    {
        { "every field", new(7, "default", "command.delivered", s_at, "agent-1", "ses_1", Json("""{"command_id":"cmd_1","n":[1,2.5,null,true],"text":"é ü 😀"}""")) },
        { "no agent, session or data", new(8, "prod", "key.created", s_at, null, null, null) },
        { "data undefined", new(9, "prod", "key.revoked", s_at, "a", null, default(JsonElement)) },
        { "a scalar and an offset", new(10, "clüster", "session.joined", new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.FromHours(-5.5)), "", "", Json("42")) },
        { "larger than a chunk", new(11, "default", "command.queued", s_at, "a", "s", Json($$"""{"blob":"{{new string('x', EventArchive.ChunkSize + 10)}}"}""")) },
    };

    [Theory]
    [MemberData(nameof(Events))]
    public void An_event_reads_back_as_it_was_appended(string shape, MeshEventRecord e)
    {
        var archive = new EventArchive();
        archive.Append(Event(1) with { Data = Json("""{"before":true}""") });
        var where = archive.Append(e);
        archive.Append(Event(2));

        var read = EventArchive.Read(e.Revision, where);

        Assert.True(Same(e, read), shape);
    }

    [Fact]
    public void A_read_owns_its_memory_after_the_chunk_is_reused()
    {
        var archive = new EventArchive();
        var first = archive.Append(Event(1) with { Data = Json("""{"keep":"me"}""") });
        var read = EventArchive.Read(1, first);
        archive.Release(first);
        for (var i = 2; i < 2_000; i++)
        {
            archive.Release(archive.Append(Event(i) with { Data = Json("""{"over":"written, again and again"}""") }));
        }

        Assert.Equal("me", read.Data!.Value.GetProperty("keep").GetString());
    }

    [Fact]
    public void Released_chunks_are_reused_so_a_steady_flow_allocates_no_new_ones()
    {
        var archive = new EventArchive();
        var held = new Queue<EventArchive.Location>();
        var chunks = new HashSet<EventArchive.Chunk>(ReferenceEqualityComparer.Instance);
        var data = Json($$"""{"text":"{{new string('y', 1_000)}}"}""");
        // About 20 MB through the archive, never more than 100 KB held.
        for (var i = 0; i < 20_000; i++)
        {
            var where = archive.Append(Event(i) with { Data = data });
            chunks.Add(where.Chunk);
            held.Enqueue(where);
            if (held.Count > 100)
            {
                archive.Release(held.Dequeue());
            }
        }

        Assert.InRange(chunks.Count, 1, 3);
    }

    [Theory]
    [InlineData(1_024, EventArchive.MinChunkSize)]
    [InlineData(100_000, 25_000)]
    [InlineData(RecentEvents.DefaultMaxBytes, EventArchive.ChunkSize)]
    public void A_small_byte_budget_gets_chunks_of_a_quarter_of_it(long maxBytes, int chunkSize)
    {
        var archive = new EventArchive(maxBytes);

        Assert.Equal(chunkSize, archive.Append(Event(1)).Chunk.Bytes.Length);
    }

    private static MeshEventRecord Event(long revision) => new(revision, "default", "session.joined", s_at, "a", "s", null);

    private static JsonElement Json(string json) => JsonElement.Parse(json);

    private static bool Same(MeshEventRecord expected, MeshEventRecord actual) =>
        expected with { Data = null } == actual with { Data = null }
        && expected.At.Offset == actual.At.Offset
        && expected.Data?.ValueKind == actual.Data?.ValueKind
        && (expected.Data is not { ValueKind: not JsonValueKind.Undefined } data || data.GetRawText() == actual.Data!.Value.GetRawText());
}
