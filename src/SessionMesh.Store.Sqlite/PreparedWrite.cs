using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace SessionMesh.Store.Sqlite;

/// <summary>
/// One of the writer's hot statements (the inserts and updates of the steer, join and checkpoint paths, and the command
/// sequence a steer reads inside its write), compiled once per
/// writer connection and run through SQLite's own API. A <see cref="SqliteCommand"/> binds every parameter afresh at
/// each run: it looks the name up in SQLite (converting it to UTF-8), makes a binder object, boxes the value and
/// converts a text value to UTF-8; for a steer, with some fifty parameters, that was a fifth of its garbage. Here the
/// names are looked up once, at compile time, and values are bound in place (text as UTF-8 from a stack or pooled buffer,
/// which SQLite copies).
/// Like a command, it may hold several statements, run in order, each bound the parameters it names.
/// Errors are the same <see cref="SqliteException"/>s a command throws. Used only by the holder of the write lock.
/// </summary>
internal sealed class PreparedWrite : IDisposable
{
    private const int StackTextBytes = 512;

    private readonly sqlite3 _db;
    private readonly sqlite3_stmt[] _statements;
    private readonly Dictionary<string, (int Statement, int Index)[]> _parameters;
    private readonly bool _kept;
    private bool _released;

    private PreparedWrite(sqlite3 db, sqlite3_stmt[] statements, Dictionary<string, (int, int)[]> parameters, bool kept)
    {
        _db = db;
        _statements = statements;
        _parameters = parameters;
        _kept = kept;
    }

    /// <summary>
    /// Compiles <paramref name="sql"/> on <paramref name="connection"/>. A kept write survives <see cref="Dispose"/>
    /// (its owner calls <see cref="Release"/>); another is finalized by it.
    /// </summary>
    public static PreparedWrite Compile(SqliteConnection connection, string sql, bool kept)
    {
        var db = connection.Handle ?? throw new InvalidOperationException("The writer connection is not open.");
        var statements = new List<sqlite3_stmt>();
        var parameters = new Dictionary<string, List<(int, int)>>(StringComparer.Ordinal);
        try
        {
            for (var rest = sql; !string.IsNullOrWhiteSpace(rest);)
            {
                var rc = raw.sqlite3_prepare_v2(db, rest, out var statement, out rest);
                SqliteException.ThrowExceptionForRC(rc, db);
                if (statement.IsInvalid)
                {
                    // Only a comment or a lone semicolon was left.
                    continue;
                }
                statements.Add(statement);
                for (var i = 1; i <= raw.sqlite3_bind_parameter_count(statement); i++)
                {
                    var name = raw.sqlite3_bind_parameter_name(statement, i).utf8_to_string();
                    if (!parameters.TryGetValue(name, out var targets))
                    {
                        parameters[name] = targets = [];
                    }
                    targets.Add((statements.Count - 1, i));
                }
            }
        }
        catch
        {
            statements.ForEach(statement => statement.Dispose());
            throw;
        }
        return new PreparedWrite(db, [.. statements], parameters.ToDictionary(p => p.Key, p => p.Value.ToArray(), StringComparer.Ordinal), kept);
    }

    public PreparedWrite Bind(string name, string? value)
    {
        if (value is null)
        {
            return BindNull(name);
        }
        // As UTF-8, the database's encoding, from a buffer of the stack or the pool: SQLite copies it.
        var length = Encoding.UTF8.GetMaxByteCount(value.Length);
        byte[]? rented = null;
        var buffer = length <= StackTextBytes ? stackalloc byte[StackTextBytes] : (rented = ArrayPool<byte>.Shared.Rent(length));
        try
        {
            return BindText(name, buffer[..Encoding.UTF8.GetBytes(value, buffer)]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Binds a JSON value as its text, straight from its UTF-8; NULL when there is none.</summary>
    public PreparedWrite Bind(string name, JsonElement? value) =>
        value is { ValueKind: not JsonValueKind.Undefined } element ? BindText(name, JsonMarshal.GetRawUtf8Value(element)) : BindNull(name);

    private PreparedWrite BindNull(string name)
    {
        foreach (var (statement, index) in TargetsOf(name))
        {
            Check(raw.sqlite3_bind_null(_statements[statement], index));
        }
        return this;
    }

    /// <summary>Binds text given as UTF-8 (never NULL; SQLite copies it).</summary>
    public PreparedWrite BindText(string name, ReadOnlySpan<byte> utf8)
    {
        foreach (var (statement, index) in TargetsOf(name))
        {
            // An empty span would reach SQLite as a null pointer, which binds NULL.
            Check(utf8.IsEmpty ? raw.sqlite3_bind_text(_statements[statement], index, "") : raw.sqlite3_bind_text(_statements[statement], index, utf8));
        }
        return this;
    }

    public PreparedWrite Bind(string name, long value)
    {
        foreach (var (statement, index) in TargetsOf(name))
        {
            Check(raw.sqlite3_bind_int64(_statements[statement], index, value));
        }
        return this;
    }

    public PreparedWrite Bind(string name, long? value)
    {
        foreach (var (statement, index) in TargetsOf(name))
        {
            Check(value is { } v ? raw.sqlite3_bind_int64(_statements[statement], index, v) : raw.sqlite3_bind_null(_statements[statement], index));
        }
        return this;
    }

    public PreparedWrite Bind(string name, double? value)
    {
        foreach (var (statement, index) in TargetsOf(name))
        {
            Check(value is { } v ? raw.sqlite3_bind_double(_statements[statement], index, v) : raw.sqlite3_bind_null(_statements[statement], index));
        }
        return this;
    }

    public PreparedWrite Bind(string name, bool value) => Bind(name, value ? 1L : 0L);

    public PreparedWrite Bind(string name, bool? value) => Bind(name, value is { } v ? (v ? 1L : 0L) : null);

    public PreparedWrite Bind(string name, DateTimeOffset value) => Bind(name, SqliteRows.ToDb(value));

    public PreparedWrite Bind(string name, DateTimeOffset? value) => Bind(name, value is { } v ? SqliteRows.ToDb(v) : null);

    /// <summary>Runs the statements to their end; the number of rows they changed.</summary>
    public int Execute()
    {
        try
        {
            var changed = 0;
            foreach (var statement in _statements)
            {
                StepToEnd(statement, readFirst: false);
                // Like a command's count: the rows the statements that write changed.
                changed += raw.sqlite3_stmt_readonly(statement) == 0 ? raw.sqlite3_changes(_db) : 0;
            }
            return changed;
        }
        finally
        {
            Reset();
        }
    }

    /// <summary>
    /// Runs the statements to their end and disposes this write: the store's task-shaped writes, which complete at once
    /// (SQLite runs on the calling thread).
    /// </summary>
    public Task RunAsync(CancellationToken cancellationToken)
    {
        using (this)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Execute();
            return Task.CompletedTask;
        }
    }

    /// <summary>Runs the statements to their end; the first column of the first statement's first row (0 when none).</summary>
    public long ExecuteInt64()
    {
        try
        {
            var first = StepToEnd(_statements[0], readFirst: true);
            for (var i = 1; i < _statements.Length; i++)
            {
                StepToEnd(_statements[i], readFirst: false);
            }
            return first;
        }
        finally
        {
            Reset();
        }
    }

    /// <summary>Finalizes the statements whatever <c>kept</c> said: their connection is closing.</summary>
    public void Release()
    {
        _released = true;
        Dispose();
    }

    public void Dispose()
    {
        if (!_kept || _released)
        {
            foreach (var statement in _statements)
            {
                statement.Dispose();
            }
        }
    }

    // Stepped to the end even after the first row: SQLite runs the WAL auto-checkpoint only when a statement finishes.
    private long StepToEnd(sqlite3_stmt statement, bool readFirst)
    {
        long first = 0;
        var rc = raw.sqlite3_step(statement);
        if (rc == raw.SQLITE_ROW)
        {
            first = readFirst ? raw.sqlite3_column_int64(statement, 0) : 0;
            while ((rc = raw.sqlite3_step(statement)) == raw.SQLITE_ROW)
            {
            }
        }
        if (rc != raw.SQLITE_DONE)
        {
            SqliteException.ThrowExceptionForRC(rc, _db);
        }
        return first;
    }

    private void Reset()
    {
        foreach (var statement in _statements)
        {
            raw.sqlite3_reset(statement);
            raw.sqlite3_clear_bindings(statement);
        }
    }

    private (int Statement, int Index)[] TargetsOf(string name) =>
        _parameters.TryGetValue(name, out var targets) ? targets : throw new ArgumentException($"The statement has no parameter {name}.", nameof(name));

    private void Check(int rc) => SqliteException.ThrowExceptionForRC(rc, _db);
}
