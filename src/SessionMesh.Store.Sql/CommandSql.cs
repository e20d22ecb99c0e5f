namespace SessionMesh.Store.Sql;

/// <summary>A command's hand-out, recorded without reading the command first: the same statements on SQLite and PostgreSQL. Compiled into both stores.</summary>
internal static class CommandSql
{
    /// <summary>The first hand-out: delivered at @at, and no longer expiring unless it is a kill (a kill keeps its grace deadline).</summary>
    internal const string RecordFirstDeliverySql = """
        UPDATE commands
        SET status = 'delivered', delivered_at = @at, delivery_count = delivery_count + 1,
            deadline_at = CASE WHEN kind = 'kill' THEN deadline_at ELSE NULL END
        WHERE command_id = @command_id AND status = 'queued'
        """;

    /// <summary>A hand-out again (a stream reopened before the agent acked): counted.</summary>
    internal const string RecordRedeliverySql = "UPDATE commands SET delivery_count = delivery_count + 1 WHERE command_id = @command_id AND status = 'delivered'";
}
