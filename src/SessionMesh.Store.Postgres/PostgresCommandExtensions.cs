using Npgsql;
using NpgsqlTypes;

namespace SessionMesh.Store.Postgres;

/// <summary>
/// Typed parameter binding and result reading. Every parameter carries its PostgreSQL type, so a null binds as well as
/// a value and the statement's plan is the same either way (Npgsql prepares statements that are run again and again);
/// a <see cref="DateTimeOffset"/> always goes in as unix milliseconds.
/// </summary>
internal static class PostgresCommandExtensions
{
    public static NpgsqlCommand Bind(this NpgsqlCommand command, string name, string? value) => Add(command, name, NpgsqlDbType.Text, value);

    public static NpgsqlCommand Bind(this NpgsqlCommand command, string name, long value) => Add(command, name, NpgsqlDbType.Bigint, value);

    public static NpgsqlCommand Bind(this NpgsqlCommand command, string name, long? value) => Add(command, name, NpgsqlDbType.Bigint, value);

    public static NpgsqlCommand Bind(this NpgsqlCommand command, string name, int value) => Add(command, name, NpgsqlDbType.Integer, value);

    public static NpgsqlCommand Bind(this NpgsqlCommand command, string name, int? value) => Add(command, name, NpgsqlDbType.Integer, value);

    public static NpgsqlCommand Bind(this NpgsqlCommand command, string name, double? value) => Add(command, name, NpgsqlDbType.Double, value);

    public static NpgsqlCommand Bind(this NpgsqlCommand command, string name, bool value) => Add(command, name, NpgsqlDbType.Boolean, value);

    public static NpgsqlCommand Bind(this NpgsqlCommand command, string name, byte[] value) => Add(command, name, NpgsqlDbType.Bytea, value);

    public static NpgsqlCommand Bind(this NpgsqlCommand command, string name, DateTimeOffset value) => Add(command, name, NpgsqlDbType.Bigint, PostgresRows.ToDb(value));

    public static NpgsqlCommand Bind(this NpgsqlCommand command, string name, DateTimeOffset? value) =>
        Add(command, name, NpgsqlDbType.Bigint, value is { } v ? PostgresRows.ToDb(v) : null);

    public static NpgsqlCommand BindJson(this NpgsqlCommand command, string name, string value) => Add(command, name, NpgsqlDbType.Jsonb, value);

    public static NpgsqlCommand BindArray<T>(this NpgsqlCommand command, string name, NpgsqlDbType elementType, IReadOnlyCollection<T> values) =>
        Add(command, name, NpgsqlDbType.Array | elementType, values as T[] ?? values.ToArray());

    /// <summary>An array that may be missing: null binds as NULL, not as an empty array.</summary>
    public static NpgsqlCommand BindNullableArray<T>(this NpgsqlCommand command, string name, NpgsqlDbType elementType, IReadOnlyCollection<T>? values) =>
        values is null ? Add(command, name, NpgsqlDbType.Array | elementType, null) : command.BindArray(name, elementType, values);

    public static async Task<List<T>> ListAsync<T>(this NpgsqlCommand command, Func<NpgsqlDataReader, T> map, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var items = new List<T>();
        while (await reader.ReadAsync(cancellationToken))
        {
            items.Add(map(reader));
        }
        return items;
    }

    public static async Task<T?> FirstOrDefaultAsync<T>(this NpgsqlCommand command, Func<NpgsqlDataReader, T> map, CancellationToken cancellationToken)
        where T : class
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? map(reader) : null;
    }

    public static async Task<long> ScalarInt64Async(this NpgsqlCommand command, CancellationToken cancellationToken) =>
        await command.ScalarNullableInt64Async(cancellationToken) ?? 0;

    /// <summary>The first column of the first row, null when there is no row or the value is NULL.</summary>
    public static async Task<long?> ScalarNullableInt64Async(this NpgsqlCommand command, CancellationToken cancellationToken) =>
        await command.ExecuteScalarAsync(cancellationToken) switch
        {
            long value => value,
            null or DBNull => null,
            var other => Convert.ToInt64(other, System.Globalization.CultureInfo.InvariantCulture),
        };

    private static NpgsqlCommand Add(NpgsqlCommand command, string name, NpgsqlDbType type, object? value)
    {
        command.Parameters.Add(new NpgsqlParameter(name, type) { Value = value ?? DBNull.Value });
        return command;
    }
}
