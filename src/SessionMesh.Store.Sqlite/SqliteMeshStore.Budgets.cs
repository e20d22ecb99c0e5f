using SessionMesh.Model;
using static SessionMesh.Store.Sqlite.SqliteRows;

namespace SessionMesh.Store.Sqlite;

/// <summary>Budget charges made in the store (a mesh whose replicas share it charges there, not in memory).</summary>
public sealed partial class SqliteMeshStore
{
    // SQLite has one writer at a time (the store's write lock, and the database's), so a read inside a write
    // transaction already holds what it read until the commit: no row lock to take.
    private const string SelectSessionsForUpdate = $"""
        SELECT {SessionColumns} FROM sessions
        WHERE sessions.session_id IN (SELECT value FROM json_each(@session_ids))
        ORDER BY sessions.session_id
        """;

    private const string UpdateBudgetChargeSql = """
        UPDATE sessions
        SET budget_used = @budget_used, budget_alert = @budget_alert, charged = @charged
        WHERE session_id = @session_id AND end_status IS NULL
        """;

    internal static async Task<IReadOnlyList<SessionRecord>> SelectSessionsForUpdateAsync(SqliteDb db, IReadOnlyCollection<string> sessionIds, CancellationToken cancellationToken)
    {
        if (sessionIds.Count == 0)
        {
            return [];
        }
        await using var command = db.Command(SelectSessionsForUpdate).Bind("@session_ids", SqliteJson.WriteStrings(sessionIds));
        return await command.ListAsync(ReadSession, cancellationToken);
    }

    internal static async Task<int> UpdateBudgetChargesAsync(SqliteDb db, IReadOnlyCollection<SessionRecord> sessions, CancellationToken cancellationToken)
    {
        await using var command = db.Command(UpdateBudgetChargeSql);
        var written = 0;
        foreach (var session in sessions)
        {
            command.Bind("@session_id", session.SessionId)
                .Bind("@budget_used", SqliteJson.WriteProgress(session.BudgetUsed)).Bind("@budget_alert", session.BudgetAlert)
                .Bind("@charged", SqliteJson.WriteProgress(session.Charged));
            written += await command.ExecuteNonQueryAsync(cancellationToken);
        }
        return written;
    }
}
