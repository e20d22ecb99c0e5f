using System.CommandLine;
using System.Globalization;
using SessionMesh.Cli.Output;
using SessionMesh.Contracts;

namespace SessionMesh.Cli.Commands;

/// <summary><c>session-mesh audit</c>: who (key_id) made which mutating call, when, with what outcome; newest first.</summary>
internal static class AuditCommand
{
    public static Command Create(CliApp app)
    {
        var limit = new Option<int>("--limit") { Description = "At most this many entries (default 50)", HelpName = "N", DefaultValueFactory = _ => 50 };
        limit.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() < 1)
            {
                result.AddError("--limit must be at least 1");
            }
        });
        var key = new Option<string?>("--key-id") { Description = "Only calls made with this key", HelpName = "KEY_ID" };
        var command = new Command("audit", "The audit log: who (key id) made which mutating call, when, and how it ended; newest first.") { limit, key };
        app.Examples(command, "session-mesh audit", "session-mesh audit --limit 200 --output json", "session-mesh audit --key-id key_0123456789");
        app.SetAction(command, async (context, parseResult, cancellationToken) =>
        {
            var max = parseResult.GetValue(limit);
            var keyId = parseResult.GetValue(key);
            using var client = context.CreateClient();
            var items = new List<AuditView>();
            string? cursor = null;
            do
            {
                var page = await client.ListAuditAsync(Math.Min(max, 1000), cursor, cancellationToken);
                items.AddRange(page.Items.Where(a => keyId is null || a.KeyId == keyId));
                cursor = page.NextCursor;
            }
            while (cursor is not null && items.Count < max);
            items = items.Take(max).ToList();
            if (context.Json)
            {
                context.Write(new Page<AuditView> { Items = items }, MeshJsonContext.Default.PageAuditView);
                return ExitCodes.Ok;
            }
            if (items.Count == 0)
            {
                context.Out.WriteLine("No audit entries.");
                return ExitCodes.Ok;
            }
            var table = new Table(context.Wide ? ["TIME", "KEY", "METHOD", "PATH", "STATUS", "CODE", "CLUSTER", "ID"] : ["TIME", "KEY", "METHOD", "PATH", "STATUS", "CODE"]);
            foreach (var a in items)
            {
                var status = a.Status.ToString(CultureInfo.InvariantCulture);
                string?[] row = [Times.Stamp(a.At), a.KeyId, a.Method, a.Path, a.Status >= 400 ? context.Style.Red(status) : context.Style.Green(status), a.Code];
                table.Add(context.Wide ? [.. row, a.Cluster, a.Id.ToString(CultureInfo.InvariantCulture)] : row);
            }
            table.Write(context.Out, context.Style);
            return ExitCodes.Ok;
        });
        return command;
    }
}
