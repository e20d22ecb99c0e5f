using Microsoft.Data.Sqlite;

namespace SessionMesh.Store.Sqlite;

/// <summary>
/// The writer connection's prepared statements, kept across writes. Microsoft.Data.Sqlite keeps a statement only as
/// long as its command, so a write that creates its commands afresh compiles its SQL every time; the writes are few
/// fixed statements run under one lock, so they are compiled once per writer connection and reused. Used only under
/// the store's write lock; dropped with the connection.
/// </summary>
internal sealed class WriterStatements : IDisposable
{
    // Writes use a few dozen fixed statements; past this, a statement is run uncached rather than grow the cache.
    private const int MaxStatements = 128;

    private readonly Dictionary<string, ReusedCommand> _commands = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PreparedWrite> _writes = new(StringComparer.Ordinal);

    /// <summary>
    /// The command for <paramref name="sql"/> on <paramref name="connection"/>, in <paramref name="transaction"/>. Its
    /// parameters are those of its last run, each rebound by name before this one (see <c>SqliteCommandExtensions</c>).
    /// </summary>
    public SqliteCommand Get(SqliteConnection connection, SqliteTransaction? transaction, string sql)
    {
        if (!_commands.TryGetValue(sql, out var command))
        {
            if (_commands.Count >= MaxStatements)
            {
                return new SqliteCommand(sql, connection, transaction);
            }
            command = new ReusedCommand(sql, connection);
            _commands[sql] = command;
        }
        command.Transaction = transaction;
        return command;
    }

    /// <summary>The hot write <paramref name="sql"/> on <paramref name="connection"/>, compiled at its first use.</summary>
    public PreparedWrite Write(SqliteConnection connection, string sql)
    {
        if (!_writes.TryGetValue(sql, out var write))
        {
            if (_writes.Count >= MaxStatements)
            {
                return PreparedWrite.Compile(connection, sql, kept: false);
            }
            write = PreparedWrite.Compile(connection, sql, kept: true);
            _writes[sql] = write;
        }
        return write;
    }

    public void Dispose()
    {
        foreach (var command in _commands.Values)
        {
            command.Release();
        }
        _commands.Clear();
        foreach (var write in _writes.Values)
        {
            write.Release();
        }
        _writes.Clear();
    }

    /// <summary>A command whose disposal by the code that ran it keeps it (and its prepared statement) for the next write.</summary>
    private sealed class ReusedCommand(string sql, SqliteConnection connection) : SqliteCommand(sql, connection)
    {
        private bool _released;

        public void Release()
        {
            _released = true;
            Dispose();
        }

        protected override void Dispose(bool disposing)
        {
            if (_released)
            {
                base.Dispose(disposing);
            }
        }
    }
}
