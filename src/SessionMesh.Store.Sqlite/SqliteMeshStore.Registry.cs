using SessionMesh.Model;
using static SessionMesh.Store.Sqlite.SqliteRows;

namespace SessionMesh.Store.Sqlite;

public sealed partial class SqliteMeshStore
{
    private const string SelectSpecializationsOfAgents = $"""
        SELECT {SpecializationColumns} FROM specializations
        WHERE specializations.cluster = @cluster AND specializations.agent_id IN (SELECT value FROM json_each(@agent_ids))
        ORDER BY specializations.agent_id, specializations.name
        """;

    private const string SelectSpecialization = $"""
        SELECT {SpecializationColumns} FROM specializations
        WHERE specializations.cluster = @cluster AND specializations.agent_id = @agent_id AND specializations.name = @name
        """;

    // The agent's row names its latest session, its open one while open. The left joins yield sessions.* null for an
    // agent without an open session, which the status expression then treats as not alive; "load IS NULL" sorts
    // unknown load last.
    private const string SelectRegistryMatches = $"""
        SELECT {SpecializationColumns}, {SessionColumns}
        FROM specializations
        LEFT JOIN agents a ON a.cluster = specializations.cluster AND a.agent_id = specializations.agent_id
        LEFT JOIN sessions ON sessions.session_id = a.latest_session_id AND sessions.end_status IS NULL
        WHERE specializations.cluster = @cluster AND specializations.name = @name
          AND (@alive_only = 0 OR {SessionStatusSql.Alive})
        ORDER BY COALESCE({SessionStatusSql.Alive}, 0) DESC, sessions.load IS NULL, sessions.load, specializations.agent_id
        LIMIT @limit OFFSET @offset
        """;

    private const string CountBySpecialization = $"""
        SELECT specializations.name, COUNT(*), COUNT(CASE WHEN {SessionStatusSql.Alive} THEN 1 END)
        FROM specializations
        LEFT JOIN agents a ON a.cluster = specializations.cluster AND a.agent_id = specializations.agent_id
        LEFT JOIN sessions ON sessions.session_id = a.latest_session_id AND sessions.end_status IS NULL
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

    internal static async Task<IReadOnlyList<SpecializationRecord>> SelectSpecializationsAsync(SqliteDb db, string cluster, IReadOnlyCollection<string> agentIds, CancellationToken cancellationToken)
    {
        await using var command = db.Command(SelectSpecializationsOfAgents)
            .Bind("@cluster", cluster).Bind("@agent_ids", SqliteJson.WriteStrings(agentIds));
        return await command.ListAsync(ReadSpecialization, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<RegistryMatch>> FindBySpecializationAsync(RegistryQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        return await ReadAsync(async db =>
        {
            await using var command = db.Command(SelectRegistryMatches)
                .Bind("@cluster", query.Cluster).Bind("@name", query.Specialization).Bind("@alive_only", query.AliveOnly)
                .Bind("@now", query.Now).Bind("@offset", Math.Max(0, query.Offset)).Bind("@limit", Math.Max(0, query.Limit));
            return await command.ListAsync(ReadRegistryMatch, cancellationToken);
        }, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<SpecializationCount>> CountSpecializationsAsync(string cluster, DateTimeOffset now, CancellationToken cancellationToken) =>
        await ReadAsync(async db =>
        {
            await using var command = db.Command(CountBySpecialization).Bind("@cluster", cluster).Bind("@now", now);
            return await command.ListAsync(r => new SpecializationCount(r.GetString(0), r.GetInt32(1), r.GetInt32(2)), cancellationToken);
        }, cancellationToken);

    internal static async Task<SpecializationRecord?> SelectSpecializationAsync(SqliteDb db, string cluster, string agentId, string name, CancellationToken cancellationToken)
    {
        await using var command = db.Command(SelectSpecialization).Bind("@cluster", cluster).Bind("@agent_id", agentId).Bind("@name", name);
        return await command.FirstOrDefaultAsync(ReadSpecialization, cancellationToken);
    }

    internal static async Task UpsertSpecializationAsync(SqliteDb db, SpecializationRecord specialization, CancellationToken cancellationToken)
    {
        await using var command = db.Command(UpsertSpecializationSql)
            .Bind("@cluster", specialization.Cluster).Bind("@agent_id", specialization.AgentId).Bind("@name", specialization.Name)
            .Bind("@description", specialization.Description).Bind("@tags", SqliteJson.WriteStrings(specialization.Tags))
            .Bind("@version", specialization.Version).Bind("@registered_at", specialization.RegisteredAt);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    internal static async Task<bool> DeleteSpecializationAsync(SqliteDb db, string cluster, string agentId, string name, CancellationToken cancellationToken)
    {
        await using var command = db.Command(DeleteSpecializationSql).Bind("@cluster", cluster).Bind("@agent_id", agentId).Bind("@name", name);
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }
}
