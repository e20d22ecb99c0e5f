using Npgsql;
using NpgsqlTypes;
using SessionMesh.Model;
using static SessionMesh.Store.Postgres.PostgresRows;

namespace SessionMesh.Store.Postgres;

public sealed partial class PostgresMeshStore
{
    private const string SelectSpecializationsOfAgents = $"""
        SELECT {SpecializationColumns} FROM specializations
        WHERE specializations.cluster = @cluster AND specializations.agent_id = ANY(@agent_ids)
        ORDER BY specializations.agent_id, specializations.name
        """;

    private const string SelectSpecialization = $"""
        SELECT {SpecializationColumns} FROM specializations
        WHERE specializations.cluster = @cluster AND specializations.agent_id = @agent_id AND specializations.name = @name
        """;

    // The left join yields sessions.* null for an agent without an open session, which the status expression then
    // treats as not alive; "load IS NULL" sorts unknown load last.
    private const string SelectRegistryMatches = $"""
        SELECT {SpecializationColumns}, {SessionColumns}
        FROM specializations
        LEFT JOIN sessions ON sessions.cluster = specializations.cluster
                          AND sessions.agent_id = specializations.agent_id
                          AND sessions.end_status IS NULL
        WHERE specializations.cluster = @cluster AND specializations.name = @name
          AND (NOT @alive_only OR COALESCE({SessionStatusSql.Alive}, FALSE))
        ORDER BY COALESCE({SessionStatusSql.Alive}, FALSE) DESC, sessions.load IS NULL, sessions.load, specializations.agent_id
        LIMIT @limit OFFSET @offset
        """;

    private const string CountBySpecialization = $"""
        SELECT specializations.name, COUNT(*)::INTEGER, (COUNT(*) FILTER (WHERE COALESCE({SessionStatusSql.Alive}, FALSE)))::INTEGER
        FROM specializations
        LEFT JOIN sessions ON sessions.cluster = specializations.cluster
                          AND sessions.agent_id = specializations.agent_id
                          AND sessions.end_status IS NULL
        WHERE specializations.cluster = @cluster
        GROUP BY specializations.name
        ORDER BY specializations.name
        """;

    private const string UpsertSpecializationSql = """
        INSERT INTO specializations (cluster, agent_id, name, description, tags, version, registered_at)
        VALUES (@cluster, @agent_id, @name, @description, @tags, @version, @registered_at)
        ON CONFLICT (cluster, agent_id, name) DO UPDATE
        SET description = excluded.description, tags = excluded.tags, version = excluded.version,
            registered_at = excluded.registered_at
        """;

    private const string DeleteSpecializationSql = """
        DELETE FROM specializations WHERE cluster = @cluster AND agent_id = @agent_id AND name = @name
        """;

    /// <inheritdoc />
    public async Task<IReadOnlyList<SpecializationRecord>> GetSpecializationsAsync(string cluster, IReadOnlyCollection<string> agentIds, CancellationToken cancellationToken) =>
        agentIds.Count == 0 ? [] : await ReadAsync(db => SelectSpecializationsAsync(db, cluster, agentIds, cancellationToken), cancellationToken);

    internal static async Task<IReadOnlyList<SpecializationRecord>> SelectSpecializationsAsync(NpgsqlConnection db, string cluster, IReadOnlyCollection<string> agentIds, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(SelectSpecializationsOfAgents, db)
            .Bind("@cluster", cluster).BindArray("@agent_ids", NpgsqlDbType.Text, agentIds);
        return await command.ListAsync(ReadSpecialization, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<RegistryMatch>> FindBySpecializationAsync(RegistryQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        return await ReadAsync(async db =>
        {
            await using var command = new NpgsqlCommand(SelectRegistryMatches, db)
                .Bind("@cluster", query.Cluster).Bind("@name", query.Specialization).Bind("@alive_only", query.AliveOnly)
                .Bind("@now", query.Now).Bind("@offset", Math.Max(0, query.Offset)).Bind("@limit", Math.Max(0, query.Limit));
            return await command.ListAsync(ReadRegistryMatch, cancellationToken);
        }, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<SpecializationCount>> CountSpecializationsAsync(string cluster, DateTimeOffset now, CancellationToken cancellationToken) =>
        await ReadAsync(async db =>
        {
            await using var command = new NpgsqlCommand(CountBySpecialization, db).Bind("@cluster", cluster).Bind("@now", now);
            return await command.ListAsync(r => new SpecializationCount(r.GetString(0), r.GetInt32(1), r.GetInt32(2)), cancellationToken);
        }, cancellationToken);

    internal static async Task<SpecializationRecord?> SelectSpecializationAsync(NpgsqlConnection db, string cluster, string agentId, string name, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(SelectSpecialization, db).Bind("@cluster", cluster).Bind("@agent_id", agentId).Bind("@name", name);
        return await command.FirstOrDefaultAsync(ReadSpecialization, cancellationToken);
    }

    internal static async Task UpsertSpecializationAsync(NpgsqlConnection db, SpecializationRecord specialization, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(UpsertSpecializationSql, db)
            .Bind("@cluster", specialization.Cluster).Bind("@agent_id", specialization.AgentId).Bind("@name", specialization.Name)
            .Bind("@description", specialization.Description).BindArray("@tags", NpgsqlDbType.Text, specialization.Tags.ToArray())
            .Bind("@version", specialization.Version).Bind("@registered_at", specialization.RegisteredAt);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    internal static async Task<bool> DeleteSpecializationAsync(NpgsqlConnection db, string cluster, string agentId, string name, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(DeleteSpecializationSql, db).Bind("@cluster", cluster).Bind("@agent_id", agentId).Bind("@name", name);
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }
}
