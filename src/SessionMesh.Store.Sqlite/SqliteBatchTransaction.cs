using System.Data;
using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace SessionMesh.Store.Sqlite;

/// <summary>
/// A write batch's outer transaction on the writer connection (<see cref="GroupCommit"/>), run with the writer's
/// prepared statements: <c>BEGIN IMMEDIATE</c>, <c>COMMIT</c>, <c>ROLLBACK</c> and each caller's <c>SAVEPOINT</c>,
/// <c>RELEASE</c> and <c>ROLLBACK TO</c>. <see cref="SqliteTransaction"/> runs each of these as a new command, compiled
/// afresh: two more compilations per write, under the write lock. SQLite tracks the transaction itself, so the
/// connection has no <see cref="SqliteConnection.Transaction"/> and the batch's commands name none.
/// </summary>
internal sealed class SqliteBatchTransaction : DbTransaction
{
    private const string Caller = GroupCommit.CallerSavepoint;

    private readonly SqliteConnection _writer;
    private readonly WriterStatements _statements;
    private bool _completed;

    private SqliteBatchTransaction(SqliteConnection writer, WriterStatements statements)
    {
        _writer = writer;
        _statements = statements;
    }

    /// <summary>The writer connection the batch runs on.</summary>
    public SqliteConnection Writer => _writer;

    public override IsolationLevel IsolationLevel => IsolationLevel.Serializable;

    public override bool SupportsSavepoints => true;

    protected override DbConnection DbConnection => _writer;

    /// <summary>Begins a batch on <paramref name="writer"/>, taking the database's write lock up front.</summary>
    public static SqliteBatchTransaction Begin(SqliteConnection writer, WriterStatements statements)
    {
        var batch = new SqliteBatchTransaction(writer, statements);
        batch.Run("BEGIN IMMEDIATE");
        return batch;
    }

    public override void Commit()
    {
        ThrowIfCompleted();
        Run("COMMIT");
        _completed = true;
    }

    public override void Rollback()
    {
        ThrowIfCompleted();
        _completed = true;
        Run("ROLLBACK");
    }

    public override void Save(string savepointName) =>
        Run(savepointName == Caller ? "SAVEPOINT " + Caller : $"SAVEPOINT \"{savepointName}\"");

    public override void Release(string savepointName) =>
        Run(savepointName == Caller ? "RELEASE " + Caller : $"RELEASE \"{savepointName}\"");

    public override void Rollback(string savepointName) =>
        Run(savepointName == Caller ? "ROLLBACK TO " + Caller : $"ROLLBACK TO \"{savepointName}\"");

    protected override void Dispose(bool disposing)
    {
        // Like SqliteTransaction: a batch neither committed nor rolled back is rolled back.
        if (disposing && !_completed && _writer.State == ConnectionState.Open)
        {
            Rollback();
        }
        base.Dispose(disposing);
    }

    private void Run(string sql)
    {
        using var command = _statements.Get(_writer, null, sql);
        command.ExecuteNonQuery();
    }

    private void ThrowIfCompleted()
    {
        if (_completed)
        {
            throw new InvalidOperationException("The batch's transaction has already been committed or rolled back.");
        }
    }
}
