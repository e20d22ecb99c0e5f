using Npgsql;
using NpgsqlTypes;
using SessionMesh.Model;
using static SessionMesh.Store.Postgres.PostgresRows;

namespace SessionMesh.Store.Postgres;

/// <summary>Budget charges made in the store: with replicas they add up here, one report at a time, whichever replica took it.</summary>
public sealed partial class PostgresMeshStore
{
    // Why FOR UPDATE, rather than an UPDATE computing the sum in SQL: the mesh decides the alert (warned once, exceeded
    // once) from the totals it reads, and both are JSON counters that Core knows how to add and compare; a row lock makes
    // that read-then-write as safe as a single UPDATE. Today every batch also holds the cross-replica write lock
    // (WriteLockKey), which already serialises it; the row lock keeps a charge correct on its own (a write that stops
    // taking that lock, a batch split across connections). Locked in session id order, so two charges never deadlock.
    private const string SelectSessionsForUpdate = $"""
        SELECT {SessionColumns} FROM sessions
        WHERE sessions.session_id = ANY(@session_ids)
        ORDER BY sessions.session_id
        FOR UPDATE
        """;

    private const string UpdateBudgetChargesSql = """
        UPDATE sessions
        SET budget_used = u.budget_used, budget_alert = u.budget_alert, charged = u.charged
        FROM unnest(@session_ids, @budget_used, @budget_alert, @charged) AS u(session_id, budget_used, budget_alert, charged)
        WHERE sessions.session_id = u.session_id AND sessions.end_status IS NULL
        """;

    internal static async Task<IReadOnlyList<SessionRecord>> SelectSessionsForUpdateAsync(NpgsqlConnection db, IReadOnlyCollection<string> sessionIds, CancellationToken cancellationToken)
    {
        if (sessionIds.Count == 0)
        {
            return [];
        }
        await using var command = new NpgsqlCommand(SelectSessionsForUpdate, db).BindArray("@session_ids", NpgsqlDbType.Text, sessionIds);
        return await command.ListAsync(ReadSession, cancellationToken);
    }

    internal static async Task<int> UpdateBudgetChargesAsync(NpgsqlConnection db, IReadOnlyCollection<SessionRecord> sessions, CancellationToken cancellationToken)
    {
        if (sessions.Count == 0)
        {
            return 0;
        }
        await using var command = new NpgsqlCommand(UpdateBudgetChargesSql, db)
            .BindArray("@session_ids", NpgsqlDbType.Text, sessions.Select(s => s.SessionId).ToArray())
            .BindArray("@budget_used", NpgsqlDbType.Text, sessions.Select(s => PostgresJson.WriteProgress(s.BudgetUsed)).ToArray())
            .BindArray("@budget_alert", NpgsqlDbType.Text, sessions.Select(s => s.BudgetAlert).ToArray())
            .BindArray("@charged", NpgsqlDbType.Text, sessions.Select(s => PostgresJson.WriteProgress(s.Charged)).ToArray());
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
