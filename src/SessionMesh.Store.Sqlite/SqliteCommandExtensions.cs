using Microsoft.Data.Sqlite;

namespace SessionMesh.Store.Sqlite;

/// <summary>
/// Typed parameter binding and result reading. The typed overloads exist so that a
/// <see cref="DateTimeOffset"/> can never reach SQLite as text: times are always unix milliseconds.
/// </summary>
internal static class SqliteCommandExtensions
{
    public static SqliteCommand Bind(this SqliteCommand command, string name, string? value) => Add(command, name, value);

    public static SqliteCommand Bind(this SqliteCommand command, string name, long value) => Add(command, name, value);

    public static SqliteCommand Bind(this SqliteCommand command, string name, long? value) => Add(command, name, value);

    public static SqliteCommand Bind(this SqliteCommand command, string name, double? value) => Add(command, name, value);

    public static SqliteCommand Bind(this SqliteCommand command, string name, bool value) => Add(command, name, value ? 1L : 0L);

    public static SqliteCommand Bind(this SqliteCommand command, string name, bool? value) => Add(command, name, value is { } v ? (v ? 1L : 0L) : null);

    public static SqliteCommand Bind(this SqliteCommand command, string name, byte[] value) => Add(command, name, value);

    public static SqliteCommand Bind(this SqliteCommand command, string name, DateTimeOffset value) => Add(command, name, SqliteRows.ToDb(value));

    public static SqliteCommand Bind(this SqliteCommand command, string name, DateTimeOffset? value) => Add(command, name, value is { } v ? SqliteRows.ToDb(v) : null);

    public static async Task<List<T>> ListAsync<T>(this SqliteCommand command, Func<SqliteDataReader, T> map, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var items = new List<T>();
        while (await reader.ReadAsync(cancellationToken))
        {
            items.Add(map(reader));
        }
        return items;
    }

    public static async Task<T?> FirstOrDefaultAsync<T>(this SqliteCommand command, Func<SqliteDataReader, T> map, CancellationToken cancellationToken)
        where T : class
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var first = await reader.ReadAsync(cancellationToken) ? map(reader) : null;
        // Step the statement to its end: SQLite runs the WAL auto-checkpoint only when a statement
        // finishes, so an UPDATE ... RETURNING read one row short (the heartbeat) grew the WAL forever.
        while (await reader.ReadAsync(cancellationToken))
        {
        }
        return first;
    }

    public static async Task<long> ScalarInt64Async(this SqliteCommand command, CancellationToken cancellationToken) =>
        await command.ExecuteScalarAsync(cancellationToken) switch
        {
            long value => value,
            null or DBNull => 0,
            var other => Convert.ToInt64(other, System.Globalization.CultureInfo.InvariantCulture),
        };

    /// <summary>The first column of the first row, null when there is no row or the value is NULL.</summary>
    public static async Task<long?> ScalarNullableInt64Async(this SqliteCommand command, CancellationToken cancellationToken) =>
        await command.ExecuteScalarAsync(cancellationToken) switch
        {
            long value => value,
            null or DBNull => null,
            var other => Convert.ToInt64(other, System.Globalization.CultureInfo.InvariantCulture),
        };

    // A reused statement (the writer's, see WriterStatements; one statement rebound per row) keeps its parameters from the
    // run before, and the same SQL always binds the same names: their values are replaced, not new parameters made.
    private static SqliteCommand Add(SqliteCommand command, string name, object? value)
    {
        var parameters = command.Parameters;
        var index = parameters.IndexOf(name);
        if (index < 0)
        {
            parameters.AddWithValue(name, value ?? DBNull.Value);
        }
        else
        {
            parameters[index].Value = value ?? DBNull.Value;
        }
        return command;
    }
}
