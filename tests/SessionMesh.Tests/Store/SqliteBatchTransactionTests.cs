using Microsoft.Data.Sqlite;
using SessionMesh.Store.Sqlite;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Store;

/// <summary>
/// The write batch's outer transaction run with the writer's kept statements: it commits, rolls back to a savepoint
/// and rolls back whole like <see cref="SqliteTransaction"/>, and its statements are compiled once per connection.
/// </summary>
public sealed class SqliteBatchTransactionTests : IDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly SqliteConnection _writer;
    private readonly WriterStatements _statements = new();

    public SqliteBatchTransactionTests()
    {
        _writer = new SqliteConnection($"Data Source={Path.Combine(_directory.Path, "batch.db")};Pooling=False");
        _writer.Open();
        Execute(_writer, "PRAGMA journal_mode=WAL; CREATE TABLE items (name TEXT NOT NULL)");
    }

    public void Dispose()
    {
        _statements.Dispose();
        _writer.Dispose();
        _directory.Dispose();
    }

    [Fact]
    public void A_savepoint_rolled_back_takes_only_its_own_rows_and_the_commit_keeps_the_rest()
    {
        using (var batch = SqliteBatchTransaction.Begin(_writer, _statements))
        {
            batch.Save("caller");
            Insert("kept");
            batch.Release("caller");
            batch.Save("caller");
            Insert("rolled back");
            batch.Rollback("caller");
            batch.Release("caller");
            batch.Commit();
            Assert.Throws<InvalidOperationException>(batch.Commit);
        }

        Assert.Equal(["kept"], ReadNames());
    }

    [Fact]
    public void A_batch_disposed_before_its_commit_is_rolled_back_and_the_next_one_begins()
    {
        using (SqliteBatchTransaction.Begin(_writer, _statements))
        {
            Insert("lost");
        }
        using (var batch = SqliteBatchTransaction.Begin(_writer, _statements))
        {
            Insert("next");
            batch.Commit();
        }

        Assert.Equal(["next"], ReadNames());
    }

    [Fact]
    public void The_batch_statements_are_kept_for_the_next_batch()
    {
        using (var batch = SqliteBatchTransaction.Begin(_writer, _statements))
        {
            batch.Save("caller");
            batch.Release("caller");
            batch.Commit();
        }
        var begin = _statements.Get(_writer, null, "BEGIN IMMEDIATE");
        var savepoint = _statements.Get(_writer, null, "SAVEPOINT caller");

        using (var batch = SqliteBatchTransaction.Begin(_writer, _statements))
        {
            batch.Save("caller");
            batch.Release("caller");
            batch.Commit();
        }

        Assert.Same(begin, _statements.Get(_writer, null, "BEGIN IMMEDIATE"));
        Assert.Same(savepoint, _statements.Get(_writer, null, "SAVEPOINT caller"));
    }

    private void Insert(string name)
    {
        using var command = _writer.CreateCommand();
        command.CommandText = "INSERT INTO items (name) VALUES (@name)";
        command.Parameters.AddWithValue("@name", name);
        command.ExecuteNonQuery();
    }

    private List<string> ReadNames()
    {
        // Another connection: what the batch left is what a reader sees.
        using var reader = new SqliteConnection(_writer.ConnectionString);
        reader.Open();
        using var command = reader.CreateCommand();
        command.CommandText = "SELECT name FROM items ORDER BY rowid";
        using var rows = command.ExecuteReader();
        var names = new List<string>();
        while (rows.Read())
        {
            names.Add(rows.GetString(0));
        }
        return names;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
