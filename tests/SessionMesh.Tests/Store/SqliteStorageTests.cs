using System.Text.Json;
using Microsoft.Data.Sqlite;
using SessionMesh.Mesh;
using SessionMesh.Model;
using SessionMesh.Store;
using SessionMesh.Store.Sqlite;

using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Store;

/// <summary>
/// How the SQLite store uses its disk: a WAL folded into the file in steps of about 80 MiB, one copy of each command
/// payload, retention that never touches a pending command, a file that shrinks back, and a full disk (a genuine
/// SQLITE_FULL from <c>max_page_count</c>) refused as storage_full without harm to the writes around it.
/// </summary>
public sealed class SqliteStorageTests : IAsyncLifetime
{
    private static readonly DateTimeOffset s_now = new(2030, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "session-mesh-tests", Guid.NewGuid().ToString("N"));
    private SqliteMeshStore _store = null!;
    private long _sequence;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string FilePath => Path.Combine(_directory, SqliteMeshStore.DefaultFileName);

    public async ValueTask InitializeAsync()
    {
        _store = new SqliteMeshStore(FilePath);
        await _store.MigrateAsync(Ct);
    }

    public async ValueTask DisposeAsync()
    {
        await _store.DisposeAsync();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public async Task A_command_event_reads_back_as_appended_while_its_payload_is_stored_once()
    {
        var payload = JsonDocument.Parse($$"""{"blob": "{{new string('x', 100_000)}}", "n": [1, 2.50, "é"]}""").RootElement;
        var command = Command("cmd-1", CommandStatus.Acked, payload) with { Direction = "east \"now\"", Result = JsonDocument.Parse("""{"ok": true}""").RootElement };
        var data = JsonDocument.Parse($$"""
            {"command_id": "cmd-1", "kind": "steer", "status": "acked", "direction": "east \"now\"", "payload": {{payload.GetRawText()}}, "result": {"ok": true}, "sequence": 1}
            """).RootElement;
        var orphanData = JsonDocument.Parse("""{"command_id": "never-stored", "payload": {"keep": "me"}}""").RootElement;
        await WriteAsync(async tx =>
        {
            await tx.InsertCommandAsync(command, Ct);
            await tx.AppendEventAsync("c1", "command.acked", s_now, "a1", null, data, Ct);
            await tx.AppendEventAsync("c1", "command.queued", s_now, "a1", null, orphanData, Ct);
        });

        var events = await _store.ListEventsAsync(null, 0, 10, Ct);
        Assert.True(JsonElement.DeepEquals(data, events[0].Data!.Value), events[0].Data!.Value.GetRawText());
        Assert.True(JsonElement.DeepEquals(orphanData, events[1].Data!.Value));
        await using var connection = await OpenRawAsync();
        // The event row holds the command's id and a flag per lifted field, not the 100 kB payload.
        Assert.InRange(await RawSqlite.ScalarAsync<long>(connection, "SELECT octet_length(data) FROM events WHERE type = 'command.acked'"), 1, 200);
        Assert.Equal(1 | 2 | 4, await RawSqlite.ScalarAsync<long>(connection, "SELECT lifted FROM events WHERE type = 'command.acked'"));
        Assert.Equal(0L, await RawSqlite.ScalarAsync<long>(connection, "SELECT lifted FROM events WHERE type = 'command.queued'"));
    }

    [Fact]
    public async Task Retention_deletes_completed_commands_and_old_events_but_never_a_pending_command()
    {
        var big = JsonDocument.Parse($$"""{"blob": "{{new string('x', 200_000)}}"}""").RootElement;
        var statuses = Enum.GetValues<CommandStatus>();
        await WriteAsync(async tx =>
        {
            foreach (var status in statuses)
            {
                var command = Command("cmd-" + status.ToWire(), status, big);
                await tx.InsertCommandAsync(command, Ct);
                await tx.AppendEventAsync("c1", "command." + status.ToWire(), s_now, "a1", null, ViewOf(command), Ct);
            }
        });

        // Everything is young; only the size budgets bite, and they are one byte.
        var result = await _store.ApplyRetentionAsync(Policy(maxBytes: 1), Ct);

        Assert.Equal(statuses.Length, result.EventsDeleted);
        Assert.Equal(4, result.CommandsDeleted);
        foreach (var status in statuses)
        {
            var stored = await _store.GetCommandAsync("cmd-" + status.ToWire(), Ct);
            if (status is CommandStatus.Queued or CommandStatus.Delivered)
            {
                Assert.Equal(status, stored?.Status);
                Assert.True(JsonElement.DeepEquals(big, stored!.Payload!.Value));
            }
            else
            {
                Assert.Null(stored);
            }
        }
        Assert.Empty(await _store.ListEventsAsync(null, 0, 10, Ct));
    }

    [Fact]
    public async Task A_completed_command_stays_while_an_event_still_reads_its_payload()
    {
        var payload = JsonDocument.Parse("""{"p": 1}""").RootElement;
        var command = Command("cmd-1", CommandStatus.Expired, payload);
        await WriteAsync(async tx =>
        {
            await tx.InsertCommandAsync(command, Ct);
            await tx.AppendEventAsync("c1", "command.expired", s_now, "a1", null, ViewOf(command), Ct);
        });

        // Commands have no budget left at all, events a large one: the event keeps its command.
        var result = await _store.ApplyRetentionAsync(Policy(maxBytes: long.MaxValue) with { MaxCommandBytes = 1, MaxCommandAge = TimeSpan.FromTicks(1) }, Ct);

        Assert.Equal(0, result.CommandsDeleted);
        var events = await _store.ListEventsAsync(null, 0, 10, Ct);
        Assert.True(JsonElement.DeepEquals(payload, events[0].Data!.Value.GetProperty("payload")));
    }

    [Fact]
    public async Task Events_go_by_count_by_age_and_by_size_whichever_keeps_fewer()
    {
        await WriteAsync(async tx =>
        {
            for (var i = 0; i < 10; i++)
            {
                await tx.AppendEventAsync("c1", "agent.registered", s_now.AddMinutes(i), "a" + i, null, null, Ct);
            }
        });

        // By count: the latest 8 stay.
        Assert.Equal(2, (await _store.ApplyRetentionAsync(Policy(maxBytes: long.MaxValue) with { MaxEvents = 8 }, Ct)).EventsDeleted);
        // By age: events before minute 5 go (at s_now + 10 min, a 6-minute age keeps minutes 4..9: 4 and up stay).
        Assert.Equal(2, (await _store.ApplyRetentionAsync(Policy(maxBytes: long.MaxValue) with { Now = s_now.AddMinutes(10), MaxEventAge = TimeSpan.FromMinutes(6) }, Ct)).EventsDeleted);
        // By size: each event is one row's overhead (no data): room for three.
        var result = await _store.ApplyRetentionAsync(Policy(maxBytes: long.MaxValue) with { MaxEventBytes = 350 }, Ct);
        Assert.Equal(3, result.EventsDeleted);
        Assert.Equal(["a7", "a8", "a9"], (await _store.ListEventsAsync(null, 0, 10, Ct)).Select(e => e.AgentId));
    }

    [Fact]
    public async Task The_file_shrinks_back_after_retention()
    {
        var big = JsonDocument.Parse($$"""{"blob": "{{new string('x', 500_000)}}"}""").RootElement;
        for (var i = 0; i < 20; i++)
        {
            await WriteAsync(tx => tx.InsertCommandAsync(Command($"cmd-{i}", CommandStatus.Expired, big), Ct));
        }
        await _store.ReclaimSpaceAsync(Ct);
        var full = _store.SizeOnDisk();
        Assert.True(full > 10_000_000, $"{full} bytes");

        var result = await _store.ApplyRetentionAsync(Policy(maxBytes: 1), Ct);

        Assert.Equal(20, result.CommandsDeleted);
        Assert.Equal(full, result.BytesBefore);
        Assert.True(result.BytesAfter < 1_000_000, $"{result.BytesAfter} bytes after retention, {full} before");
        Assert.Equal(result.BytesAfter, new FileInfo(FilePath).Length + (File.Exists(FilePath + "-wal") ? new FileInfo(FilePath + "-wal").Length : 0));
    }

    [Fact]
    public async Task A_file_from_before_incremental_vacuum_is_converted_at_start()
    {
        await _store.DisposeAsync();
        File.Delete(FilePath);
        await using (var connection = await OpenRawAsync())
        {
            await RawSqlite.ExecuteAsync(connection, "PRAGMA auto_vacuum=NONE; PRAGMA journal_mode=WAL; CREATE TABLE leftover (x INTEGER);");
            Assert.Equal(0L, await RawSqlite.ScalarAsync<long>(connection, "PRAGMA auto_vacuum"));
        }

        _store = new SqliteMeshStore(FilePath);
        await _store.MigrateAsync(Ct);

        await using var reopened = await OpenRawAsync();
        Assert.Equal(2L, await RawSqlite.ScalarAsync<long>(reopened, "PRAGMA auto_vacuum"));
        Assert.Equal("wal", await RawSqlite.ScalarAsync<string>(reopened, "PRAGMA journal_mode"));
    }

    [Fact]
    public async Task The_writer_folds_its_WAL_into_the_file_in_steps_of_about_80_MiB_not_SQLites_4_MiB()
    {
        // 160 commits of an agent with 64 KB of labels: about 11 MiB of WAL pages, well past SQLite's default
        // checkpoint at 1,000 pages (4 MiB), after which the WAL would start over and stay near 4 MiB.
        var labels = new Dictionary<string, string> { ["blob"] = new string('x', 64 * 1024) };
        var fileBefore = new FileInfo(FilePath).Length;
        for (var i = 0; i < 160; i++)
        {
            await WriteAsync(tx => tx.UpsertAgentAsync(new AgentRecord("c1", $"a{i:D3}", null, labels, s_now, s_now), Ct));
        }

        // Every commit is still in the WAL, and none of them has been written into the database file yet.
        Assert.InRange(new FileInfo(FilePath + "-wal").Length, 10L << 20, 80L << 20);
        Assert.Equal(fileBefore, new FileInfo(FilePath).Length);
        Assert.Equal(labels, (await _store.GetAgentAsync("c1", "a159", Ct))!.Labels);
    }

    [Fact]
    public async Task A_full_store_refuses_writes_as_storage_full_and_takes_them_again_once_space_returns()
    {
        var big = JsonDocument.Parse($$"""{"blob": "{{new string('x', 300_000)}}"}""").RootElement;
        await _store.ReclaimSpaceAsync(Ct);
        await _store.LimitPagesAsync(0, Ct);

        // Small and large writers at once, some sharing a batch with the failing one: each either commits or is
        // refused as storage_full, never anything else, and none hangs.
        var writers = Enumerable.Range(0, 20).Select(i => Task.Run(async () =>
        {
            try
            {
                await WriteAsync(tx => i % 5 == 0
                    ? tx.InsertCommandAsync(Command($"big-{i}", CommandStatus.Queued, big), Ct)
                    : tx.UpsertAgentAsync(new AgentRecord("c1", $"a{i}", null, new Dictionary<string, string>(), s_now, s_now), Ct));
                return (i, Kept: true);
            }
            catch (MeshException e) when (e.Kind == MeshErrorKind.StorageFull)
            {
                return (i, Kept: false);
            }
        }, Ct)).ToArray();
        var outcomes = await Task.WhenAll(writers).WaitAsync(TimeSpan.FromSeconds(30), Ct);

        Assert.All(outcomes.Where(o => o.i % 5 == 0), o => Assert.False(o.Kept));
        // A small write that fit may have committed since; one more that cannot leaves the store known to be full.
        var refused = await Assert.ThrowsAsync<MeshException>(() => WriteAsync(tx => tx.InsertCommandAsync(Command("big-last", CommandStatus.Queued, big), Ct)));
        Assert.Equal("storage_full", refused.Code);
        Assert.False(await _store.IsWritableAsync(Ct));

        await _store.LimitPagesAsync(null, Ct);

        Assert.True(await _store.IsWritableAsync(Ct));
        await WriteAsync(tx => tx.InsertCommandAsync(Command("big-after", CommandStatus.Queued, big), Ct));
        Assert.NotNull(await _store.GetCommandAsync("big-after", Ct));
        foreach (var (i, kept) in outcomes)
        {
            var stored = i % 5 == 0 ? (object?)await _store.GetCommandAsync($"big-{i}", Ct) : await _store.GetAgentAsync("c1", $"a{i}", Ct);
            Assert.Equal(kept, stored is not null);
        }
    }

    private static RetentionPolicy Policy(long maxBytes) =>
        new(s_now, MaxEvents: 1_000_000, MaxEventAge: TimeSpan.FromDays(365), MaxEventBytes: maxBytes,
            MaxCommandAge: TimeSpan.FromDays(365), MaxCommandBytes: maxBytes);

    private CommandRecord Command(string commandId, CommandStatus status, JsonElement? payload) =>
        new(commandId, "c1", "a1", CommandKind.Steer, status, Sequence: Interlocked.Increment(ref _sequence),
            Direction: "east", Mode: "inject", Text: null, From: null, Reason: null, GracePeriod: null, Payload: payload, Result: null,
            CreatedAt: s_now.AddMinutes(-1), DeliveredAt: status == CommandStatus.Queued ? null : s_now.AddSeconds(-50),
            CompletedAt: status is CommandStatus.Queued or CommandStatus.Delivered ? null : s_now.AddSeconds(-40),
            DeadlineAt: null, CreatedBy: "k-root", IdempotencyKey: null);

    /// <summary>The shape of a command event's data: the command's fields, payload included.</summary>
    private static JsonElement ViewOf(CommandRecord command) => JsonDocument.Parse($$"""
        {"command_id": "{{command.CommandId}}", "status": "{{command.Status.ToWire()}}", "direction": "{{command.Direction}}", "payload": {{command.Payload?.GetRawText() ?? "null"}}}
        """).RootElement;

    private async Task WriteAsync(Func<IMeshWriteTransaction, Task> write)
    {
        await using var tx = await _store.BeginWriteAsync(Ct);
        await write(tx);
        await tx.CommitAsync(Ct);
    }

    private Task<SqliteConnection> OpenRawAsync() => RawSqlite.OpenAsync(FilePath);
}
