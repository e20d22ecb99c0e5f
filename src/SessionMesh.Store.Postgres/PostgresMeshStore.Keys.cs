using Npgsql;
using SessionMesh.Model;
using static SessionMesh.Store.Postgres.PostgresRows;

namespace SessionMesh.Store.Postgres;

public sealed partial class PostgresMeshStore
{
    private const string SelectKeyById = $"SELECT {KeyColumns} FROM api_keys WHERE api_keys.key_id = @key_id";

    private const string SelectKeysPage = $"""
        SELECT {KeyColumns} FROM api_keys
        WHERE api_keys.key_id > @after
        ORDER BY api_keys.key_id
        LIMIT @limit
        """;

    private const string SelectClusterKeysPage = $"""
        SELECT {KeyColumns} FROM api_keys
        WHERE api_keys.cluster = @cluster AND api_keys.key_id > @after
        ORDER BY api_keys.key_id
        LIMIT @limit
        """;

    private const string UpsertKeySql = """
        INSERT INTO api_keys (key_id, secret_hash, cluster, scopes, agent_id, name, created_at, expires_at, revoked_at,
                              created_by, rotated_from, limit_at)
        VALUES (@key_id, @secret_hash, @cluster, @scopes, @agent_id, @name, @created_at, @expires_at, @revoked_at,
                @created_by, @rotated_from, @limit_at)
        ON CONFLICT (key_id) DO UPDATE
        SET secret_hash = excluded.secret_hash, cluster = excluded.cluster, scopes = excluded.scopes,
            agent_id = excluded.agent_id, name = excluded.name, created_at = excluded.created_at,
            expires_at = excluded.expires_at, revoked_at = excluded.revoked_at, created_by = excluded.created_by,
            rotated_from = excluded.rotated_from, limit_at = excluded.limit_at
        """;

    /// <inheritdoc />
    public Task<ApiKeyRecord?> GetKeyAsync(string keyId, CancellationToken cancellationToken) =>
        ReadAsync(db => SelectKeyAsync(db, keyId, cancellationToken), cancellationToken);

    /// <inheritdoc />
    public async Task<IReadOnlyList<ApiKeyRecord>> ListKeysAsync(string? cluster, string? afterKeyId, int limit, CancellationToken cancellationToken) =>
        await ReadAsync(async db =>
        {
            await using var command = new NpgsqlCommand(cluster is null ? SelectKeysPage : SelectClusterKeysPage, db)
                .Bind("@after", afterKeyId ?? "").Bind("@limit", Math.Max(0, limit));
            if (cluster is not null)
            {
                command.Bind("@cluster", cluster);
            }
            return await command.ListAsync(ReadKey, cancellationToken);
        }, cancellationToken);

    internal static async Task<ApiKeyRecord?> SelectKeyAsync(NpgsqlConnection db, string keyId, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(SelectKeyById, db).Bind("@key_id", keyId);
        return await command.FirstOrDefaultAsync(ReadKey, cancellationToken);
    }

    internal static async Task UpsertKeyAsync(NpgsqlConnection db, ApiKeyRecord key, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(UpsertKeySql, db)
            .Bind("@key_id", key.KeyId).Bind("@secret_hash", key.SecretHash).Bind("@cluster", key.Cluster)
            .Bind("@scopes", (int)key.Scopes).Bind("@agent_id", key.AgentId).Bind("@name", key.Name)
            .Bind("@created_at", key.CreatedAt).Bind("@expires_at", key.ExpiresAt).Bind("@revoked_at", key.RevokedAt)
            .Bind("@created_by", key.CreatedBy).Bind("@rotated_from", key.RotatedFrom).Bind("@limit_at", key.LimitAt);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
