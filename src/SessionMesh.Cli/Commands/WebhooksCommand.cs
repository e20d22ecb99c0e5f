using System.CommandLine;
using SessionMesh.Cli.Output;
using SessionMesh.Contracts;

namespace SessionMesh.Cli.Commands;

/// <summary><c>session-mesh webhooks list|create|delete|test|enable|deliveries</c>.</summary>
internal static class WebhooksCommand
{
    public static Command Create(CliApp app)
    {
        var webhooks = new Command("webhooks", "Create, list, test and delete signed lifecycle webhooks (see docs/webhooks.md).");
        webhooks.Subcommands.Add(ListCommand(app));
        webhooks.Subcommands.Add(CreateCommand(app));
        webhooks.Subcommands.Add(DeleteCommand(app));
        webhooks.Subcommands.Add(TestCommand(app));
        webhooks.Subcommands.Add(EnableCommand(app));
        webhooks.Subcommands.Add(DeliveriesCommand(app));
        app.Examples(webhooks,
            "session-mesh webhooks create --url https://hooks.example.com/mesh --event 'session.*' --event command.acked",
            "session-mesh webhooks list",
            "session-mesh webhooks test wh_0123",
            "session-mesh webhooks deliveries wh_0123");
        webhooks.SetAction(parseResult =>
        {
            app.Console.Error.WriteLine("session-mesh: webhooks needs a subcommand: list, create, delete, test, enable or deliveries. Run 'session-mesh webhooks --help'.");
            return ExitCodes.Usage;
        });
        return webhooks;
    }

    private static Command CreateCommand(CliApp app)
    {
        var url = new Option<string>("--url") { Description = "The http(s) URL events are POSTed to; its host must be on the server's allow-list", HelpName = "URL", Required = true };
        var events = new Option<string[]>("--event") { Description = "An event type or pattern (repeatable): session.*, command.acked, *", HelpName = "PATTERN", Required = true };
        var label = new Option<string[]>("--label") { Description = "Only events about agents with this label (repeatable)", HelpName = "KEY=VALUE" };
        var specialization = new Option<string?>("--spec") { Description = "Only events about agents with this specialization", HelpName = "SPEC" };
        var description = new Option<string?>("--description") { Description = "What the webhook is for", HelpName = "TEXT" };
        var command = new Command("create", "Create a webhook. Its signing secret is printed once.") { url, events, label, specialization, description };
        app.Examples(command,
            "session-mesh webhooks create --url https://hooks.example.com/mesh --event session.left --event session.killed",
            "session-mesh webhooks create --url https://hooks.example.com/mesh --event '*' --label team=vision --output json");
        app.SetAction(command, async (context, parseResult, cancellationToken) =>
        {
            using var client = context.CreateClient();
            var webhook = await client.CreateWebhookAsync(new CreateWebhookRequest
            {
                Url = parseResult.GetValue(url),
                Events = [.. parseResult.GetValue(events) ?? []],
                Label = parseResult.GetValue(label) is { Length: > 0 } labels ? [.. labels] : null,
                Specialization = parseResult.GetValue(specialization),
                Description = parseResult.GetValue(description),
                Cluster = context.Cluster,
            }, cancellationToken);
            if (context.Json)
            {
                context.Write(webhook, MeshJsonContext.Default.CreatedWebhookView);
                return ExitCodes.Ok;
            }
            context.Out.WriteLine($"Created {webhook.WebhookId}: {string.Join(",", webhook.Events)} → {webhook.Url} (cluster {webhook.Cluster}).");
            context.Out.WriteLine(context.Style.Dim("The signing secret is shown only now:"));
            context.Out.WriteLine(webhook.Secret);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command ListCommand(CliApp app)
    {
        var command = new Command("list", "List webhooks (never their secrets).");
        app.Examples(command, "session-mesh webhooks list", "session-mesh webhooks list --output json");
        app.SetAction(command, async (context, parseResult, cancellationToken) =>
        {
            using var client = context.CreateClient();
            var items = new List<WebhookView>();
            await foreach (var webhook in client.ListAllWebhooksAsync(cancellationToken))
            {
                items.Add(webhook);
            }
            if (context.Json)
            {
                context.Write(new Page<WebhookView> { Items = items }, MeshJsonContext.Default.PageWebhookView);
                return ExitCodes.Ok;
            }
            var table = new Table("WEBHOOK ID", "STATE", "EVENTS", "URL", "CLUSTER", "DELIVERED THROUGH", "LAST ERROR");
            foreach (var webhook in items)
            {
                table.Add(webhook.WebhookId, StateText(context, webhook.State), string.Join(",", webhook.Events), webhook.Url, webhook.Cluster,
                    webhook.DeliveredThrough.ToString(System.Globalization.CultureInfo.InvariantCulture), webhook.LastError);
            }
            table.Write(context.Out, context.Style);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command DeleteCommand(CliApp app) => OneWebhook(app, "delete", "Delete a webhook and its delivery history.", "Deleted",
        (client, id, cancellationToken) => client.DeleteWebhookAsync(id, cancellationToken));

    private static Command EnableCommand(CliApp app) => OneWebhook(app, "enable", "Re-enable a failing webhook: delivery resumes at the event it gave up on.", "Enabled",
        (client, id, cancellationToken) => client.EnableWebhookAsync(id, cancellationToken));

    private static Command OneWebhook(CliApp app, string name, string description, string done, Func<Client.SessionMeshClient, string, CancellationToken, Task<WebhookView>> call)
    {
        var webhookId = new Argument<string>("webhook-id") { Description = "The webhook's id (wh_...)" };
        var command = new Command(name, description) { webhookId };
        app.Examples(command, $"session-mesh webhooks {name} wh_0123");
        app.SetAction(command, async (context, parseResult, cancellationToken) =>
        {
            using var client = context.CreateClient();
            var webhook = await call(client, parseResult.GetRequiredValue(webhookId), cancellationToken);
            if (context.Json)
            {
                context.Write(webhook, MeshJsonContext.Default.WebhookView);
            }
            else
            {
                context.Out.WriteLine($"{done} {webhook.WebhookId} ({webhook.Url}).");
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command TestCommand(CliApp app)
    {
        var webhookId = new Argument<string>("webhook-id") { Description = "The webhook's id (wh_...)" };
        var command = new Command("test", "Send a signed webhook.test delivery now and show what the receiver answered; exits 1 unless it answered 2xx.") { webhookId };
        app.Examples(command, "session-mesh webhooks test wh_0123");
        app.SetAction(command, async (context, parseResult, cancellationToken) =>
        {
            using var client = context.CreateClient();
            var delivery = await client.TestWebhookAsync(parseResult.GetRequiredValue(webhookId), cancellationToken);
            if (context.Json)
            {
                context.Write(delivery, MeshJsonContext.Default.WebhookDeliveryView);
            }
            else
            {
                context.Out.WriteLine($"{(delivery.Ok ? context.Style.Green("ok") : context.Style.Red("failed"))}: {Outcome(delivery)} in {delivery.LatencyMs} ms (delivery {delivery.DeliveryId}).");
            }
            return delivery.Ok ? ExitCodes.Ok : ExitCodes.Error;
        });
        return command;
    }

    private static Command DeliveriesCommand(CliApp app)
    {
        var webhookId = new Argument<string>("webhook-id") { Description = "The webhook's id (wh_...)" };
        var limit = new Option<int?>("--limit") { Description = "How many attempts (newest first; default 100)", HelpName = "N" };
        var command = new Command("deliveries", "Show a webhook's recent delivery attempts, newest first.") { webhookId, limit };
        app.Examples(command, "session-mesh webhooks deliveries wh_0123", "session-mesh webhooks deliveries wh_0123 --limit 10 --output json");
        app.SetAction(command, async (context, parseResult, cancellationToken) =>
        {
            using var client = context.CreateClient();
            var page = await client.ListWebhookDeliveriesAsync(parseResult.GetRequiredValue(webhookId), parseResult.GetValue(limit), null, cancellationToken);
            if (context.Json)
            {
                context.Write(page, MeshJsonContext.Default.PageWebhookDeliveryView);
                return ExitCodes.Ok;
            }
            var table = new Table("AT", "REVISION", "EVENT", "ATTEMPT", "OUTCOME", "LATENCY");
            foreach (var d in page.Items)
            {
                table.Add(Times.Stamp(d.At), d.Revision.ToString(System.Globalization.CultureInfo.InvariantCulture), d.EventType,
                    d.Attempt.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    d.Ok ? context.Style.Green(Outcome(d)) : context.Style.Red(Outcome(d)), $"{d.LatencyMs} ms");
            }
            table.Write(context.Out, context.Style);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static string Outcome(WebhookDeliveryView d) =>
        d.StatusCode is { } status ? $"HTTP {status}" + (d.Error is null ? "" : $" ({d.Error})") : d.Error ?? "no answer";

    private static string StateText(CliContext context, string state) =>
        state == "active" ? context.Style.Green(state) : context.Style.Red(state);
}
