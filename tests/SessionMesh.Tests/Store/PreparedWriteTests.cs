using Microsoft.Data.Sqlite;
using SessionMesh.Store.Sqlite;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Store;

/// <summary>
/// The writer's hot writes run through SQLite's own API: several statements bound by name, the first row of a
/// <c>RETURNING</c>, the rows changed, the same <see cref="SqliteException"/> a command throws, and a kept statement
/// that starts each run with nothing left bound from the last.
/// </summary>
public sealed class PreparedWriteTests : IDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly SqliteConnection _connection;

    public PreparedWriteTests()
    {
        _connection = new SqliteConnection($"Data Source={Path.Combine(_directory.Path, "writes.db")};Pooling=False");
        _connection.Open();
        using var create = _connection.CreateCommand();
        create.CommandText = """
            CREATE TABLE items (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, size INTEGER, weight REAL, at INTEGER);
            CREATE TABLE counters (name TEXT PRIMARY KEY, count INTEGER NOT NULL);
            """;
        create.ExecuteNonQuery();
    }

    public void Dispose()
    {
        _connection.Dispose();
        _directory.Dispose();
    }

    [Fact]
    public void Several_statements_each_get_the_parameters_they_name_and_the_changes_add_up()
    {
        const string Sql = """
            INSERT INTO items (name, size) VALUES (@name, @size);
            INSERT INTO counters (name, count) VALUES (@name, 1) ON CONFLICT (name) DO UPDATE SET count = count + 1;
            """;
        using var write = PreparedWrite.Compile(_connection, Sql, kept: true);

        Assert.Equal(2, write.Bind("@name", "ünïcode ✓").Bind("@size", 7L).Execute());
        Assert.Equal(2, write.Bind("@name", "second").Bind("@size", (long?)null).Execute());

        Assert.Equal([("ünïcode ✓", "7"), ("second", "")], Rows("SELECT name, COALESCE(size, '') FROM items ORDER BY id"));
        Assert.Equal([("second", "1"), ("ünïcode ✓", "1")], Rows("SELECT name, count FROM counters ORDER BY name"));
        write.Release();
    }

    [Fact]
    public void A_returning_write_gives_its_first_value_and_every_type_binds()
    {
        using var write = PreparedWrite.Compile(_connection, "INSERT INTO items (name, size, weight, at) VALUES (@name, @size, @weight, @at) RETURNING id", kept: false);
        var at = new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);

        var id = write.Bind("@name", "a").Bind("@size", true).Bind("@weight", 0.25).Bind("@at", at).ExecuteInt64();

        var longName = new string('é', 3000);
        write.Bind("@name", "").Bind("@size", 0L).Bind("@weight", (double?)null).Bind("@at", (DateTimeOffset?)null).ExecuteInt64();
        write.Bind("@name", longName).Bind("@size", (bool?)null).Bind("@weight", 1.5).Bind("@at", (DateTimeOffset?)at).ExecuteInt64();

        Assert.Equal(1, id);
        Assert.Equal(
            [("a", "1|0.25|" + at.ToUnixTimeMilliseconds()), ("", "0||"), (longName, "|1.5|" + at.ToUnixTimeMilliseconds())],
            Rows("SELECT name, COALESCE(size, '') || '|' || COALESCE(weight, '') || '|' || COALESCE(at, '') FROM items ORDER BY id"));
    }

    [Fact]
    public void Text_bound_as_utf8_is_stored_as_text_the_empty_one_too()
    {
        using var write = PreparedWrite.Compile(_connection, "INSERT INTO items (name) VALUES (@name)", kept: false);

        write.BindText("@name", "{\"a\":\"ünïcode ✓\"}"u8).Execute();
        write.BindText("@name", ""u8).Execute();

        Assert.Equal([("{\"a\":\"ünïcode ✓\"}", "text"), ("", "text")], Rows("SELECT name, typeof(name) FROM items ORDER BY id"));
    }

    [Fact]
    public void A_json_value_is_bound_as_its_text_and_none_as_null()
    {
        using var write = PreparedWrite.Compile(_connection, "INSERT INTO items (name, size) VALUES (@name, typeof(@json) || ':' || COALESCE(@json, 'NULL'))", kept: false);
        using var document = System.Text.Json.JsonDocument.Parse("""{"a":[1,"ünï ✓",null]}""");

        write.Bind("@name", "value").Bind("@json", document.RootElement).Execute();
        write.Bind("@name", "none").Bind("@json", (System.Text.Json.JsonElement?)null).Execute();
        write.Bind("@name", "undefined").Bind("@json", default(System.Text.Json.JsonElement)).Execute();

        Assert.Equal(
            [("value", """text:{"a":[1,"ünï ✓",null]}"""), ("none", "null:NULL"), ("undefined", "null:NULL")],
            Rows("SELECT name, COALESCE(size, '') FROM items ORDER BY id"));
    }

    [Fact]
    public void A_kept_write_starts_each_run_unbound_after_a_failure()
    {
        using var write = PreparedWrite.Compile(_connection, "INSERT INTO items (name, size) VALUES (@name, @size)", kept: true);
        write.Bind("@name", "dup").Bind("@size", 1L).Execute();

        var error = Assert.Throws<SqliteException>(() => write.Bind("@name", "dup").Bind("@size", 2L).Execute());
        Assert.Equal(19, error.SqliteErrorCode); // SQLITE_CONSTRAINT, as a command reports it
        Assert.Contains("UNIQUE", error.Message, StringComparison.Ordinal);

        // Nothing of the failed run is left bound: a run that binds only the name stores no size.
        write.Bind("@name", "next").Execute();
        Assert.Equal([("dup", "1"), ("next", "")], Rows("SELECT name, COALESCE(size, '') FROM items ORDER BY id"));
        Assert.Throws<ArgumentException>(() => write.Bind("@missing", 1L));
        write.Release();
    }

    private List<(string, string)> Rows(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<(string, string)>();
        while (reader.Read())
        {
            rows.Add((reader.GetString(0), Convert.ToString(reader.GetValue(1), System.Globalization.CultureInfo.InvariantCulture)!));
        }
        return rows;
    }
}
