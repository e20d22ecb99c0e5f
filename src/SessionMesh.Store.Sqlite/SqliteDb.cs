using Microsoft.Data.Sqlite;

namespace SessionMesh.Store.Sqlite;

/// <summary>
/// A connection and, inside a migration, its transaction: Microsoft.Data.Sqlite requires every command on a connection
/// with an open <see cref="SqliteTransaction"/> to name it, so the two travel together. A write batch's transaction is
/// SQLite's own (<see cref="SqliteBatchTransaction"/>), so the writer's commands name none.
/// </summary>
internal readonly record struct SqliteDb(SqliteConnection Connection, SqliteTransaction? Transaction, WriterStatements? Statements = null)
{
    /// <summary>A command for <paramref name="sql"/>; on the writer connection, its prepared statement is kept for the next write.</summary>
    public SqliteCommand Command(string sql)
    {
        if (Statements is { } statements)
        {
            return statements.Get(Connection, Transaction, sql);
        }
        var command = Connection.CreateCommand();
        command.Transaction = Transaction;
        command.CommandText = sql;
        return command;
    }

    /// <summary>One of the writer's hot writes (<see cref="PreparedWrite"/>): kept on the writer connection, else compiled for this run.</summary>
    public PreparedWrite Write(string sql) =>
        Statements?.Write(Connection, sql) ?? PreparedWrite.Compile(Connection, sql, kept: false);
}
