using System.CommandLine;
using SessionMesh.Cli.Output;
using SessionMesh.Contracts;
using SessionMesh.Model;

namespace SessionMesh.Cli.Commands;

/// <summary><c>session-mesh keys create|list|revoke|self|rotate</c>.</summary>
internal static class KeysCommand
{
    public static Command Create(CliApp app)
    {
        var keys = new Command("keys", "Mint, list and revoke session keys.");
        keys.Subcommands.Add(CreateCommand(app));
        keys.Subcommands.Add(ListCommand(app));
        keys.Subcommands.Add(RevokeCommand(app));
        keys.Subcommands.Add(SelfCommand(app));
        keys.Subcommands.Add(RotateCommand(app));
        app.Examples(keys,
            "session-mesh keys create --scope read --scope steer --ttl 3600 --name ops",
            "session-mesh keys list",
            "session-mesh keys revoke key_0123456789",
            "session-mesh keys self");
        keys.SetAction(parseResult =>
        {
            app.Console.Error.WriteLine("session-mesh: keys needs a subcommand: create, list, revoke, self or rotate. Run 'session-mesh keys --help'.");
            return ExitCodes.Usage;
        });
        return keys;
    }

    private static Command CreateCommand(CliApp app)
    {
        var ttl = new Option<int?>("--ttl") { Description = "Lifetime in seconds (server default 3600)", HelpName = "SECONDS" };
        var scope = new Option<string[]>("--scope") { Description = $"A scope (repeatable): {string.Join(", ", MeshScopeNames.All)}; default: the current key's", HelpName = "SCOPE" };
        scope.AcceptOnlyFromAmong([.. MeshScopeNames.All]);
        var agentId = new Option<string?>("--agent-id") { Description = "Bind the key to one agent: it can act only as that agent", HelpName = "ID" };
        var name = new Option<string?>("--name") { Description = "A name to recognise the key by", HelpName = "NAME" };
        var command = new Command("create", "Mint a key. Its secret is printed once; it can never be wider or longer-lived than the key that mints it.")
        {
            ttl, scope, agentId, name,
        };
        app.Examples(command,
            "session-mesh keys create",
            "session-mesh keys create --scope read --ttl 600 --name dashboard",
            "session-mesh keys create --scope agent --agent-id 123 --ttl 86400",
            "export SESSION_API_KEY=$(session-mesh keys create --scope read --output json | jq -r .session_key)");
        app.SetAction(command, async (context, parseResult, cancellationToken) =>
        {
            using var client = context.CreateClient();
            var request = new CreateKeyRequest
            {
                Ttl = parseResult.GetValue(ttl),
                Scopes = parseResult.GetValue(scope) is { Length: > 0 } scopes ? [.. scopes] : null,
                AgentId = parseResult.GetValue(agentId),
                Name = parseResult.GetValue(name),
                Cluster = context.Cluster,
            };
            PrintCreated(context, await client.CreateKeyAsync(request, null, cancellationToken));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command RotateCommand(CliApp app)
    {
        var command = new Command("rotate", $"Rotate the key in {CliContext.KeyVariable}: a new secret with the same rights; the old one is revoked.");
        app.Examples(command, "export SESSION_API_KEY=$(session-mesh keys rotate --output json | jq -r .session_key)");
        app.SetAction(command, async (context, parseResult, cancellationToken) =>
        {
            using var client = context.CreateClient();
            PrintCreated(context, await client.CreateKeyAsync(new CreateKeyRequest { SessionKey = client.SessionKey }, null, cancellationToken));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command ListCommand(CliApp app)
    {
        var command = new Command("list", "List keys (never their secrets).");
        app.Examples(command, "session-mesh keys list", "session-mesh keys list --output json");
        app.SetAction(command, async (context, parseResult, cancellationToken) =>
        {
            using var client = context.CreateClient();
            var items = new List<KeyView>();
            await foreach (var key in client.ListAllKeysAsync(cancellationToken))
            {
                items.Add(key);
            }
            if (context.Json)
            {
                context.Write(new Page<KeyView> { Items = items }, MeshJsonContext.Default.PageKeyView);
                return ExitCodes.Ok;
            }
            var now = context.Console.Time.GetUtcNow();
            var table = new Table("KEY ID", "NAME", "STATE", "SCOPES", "CLUSTER", "AGENT", "EXPIRES", "CREATED BY");
            foreach (var key in items)
            {
                table.Add(key.KeyId, key.Name, StateText(context, key.State),
                    string.Join(",", key.Scopes), key.Cluster, key.AgentId, key.ExpiresAt is { } e ? Times.Until(e, now) : "never", key.CreatedBy);
            }
            table.Write(context.Out, context.Style);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command RevokeCommand(CliApp app)
    {
        var keyId = new Argument<string>("key-id") { Description = "The key's public id (key_id), not its secret" };
        var command = new Command("revoke", "Revoke a key at once.") { keyId };
        app.Examples(command, "session-mesh keys revoke key_0123456789");
        app.SetAction(command, async (context, parseResult, cancellationToken) =>
        {
            using var client = context.CreateClient();
            var key = await client.RevokeKeyAsync(parseResult.GetRequiredValue(keyId), cancellationToken);
            if (context.Json)
            {
                context.Write(key, MeshJsonContext.Default.KeyView);
            }
            else
            {
                context.Out.WriteLine($"Revoked {key.KeyId}{(key.Name is null ? "" : $" ({key.Name})")}.");
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command SelfCommand(CliApp app)
    {
        var command = new Command("self", $"Show the key in {CliContext.KeyVariable}: its id, scopes, cluster and expiry.");
        app.Examples(command, "session-mesh keys self");
        app.SetAction(command, async (context, parseResult, cancellationToken) =>
        {
            using var client = context.CreateClient();
            var key = await client.GetSelfKeyAsync(cancellationToken);
            if (context.Json)
            {
                context.Write(key, MeshJsonContext.Default.KeyView);
                return ExitCodes.Ok;
            }
            Describe(context, key);
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>One key, field by field (<c>keys self</c>, <c>get key</c>).</summary>
    internal static void Describe(CliContext context, KeyView key)
    {
        var now = context.Console.Time.GetUtcNow();
        new Details()
            .Field("Key ID", key.KeyId)
            .Field("Name", key.Name)
            .Field("State", StateText(context, key.State))
            .Field("Scopes", string.Join(",", key.Scopes))
            .Field("Cluster", key.Cluster)
            .Field("Agent", key.AgentId)
            .Field("Created", $"{Times.Stamp(key.CreatedAt)}{(key.CreatedBy is null ? "" : $" by {key.CreatedBy}")}")
            .Field("Expires", key.ExpiresAt is { } e ? $"{Times.Stamp(e)} ({Times.Until(e, now)})" : "never")
            .Field("Revoked", key.RevokedAt is { } r ? Times.Stamp(r) : null)
            .Write(context.Out);
    }

    private static string StateText(CliContext context, string state) => state switch
    {
        "active" => context.Style.Green(state),
        "revoked" => context.Style.Red(state),
        _ => context.Style.Dim(state),
    };

    private static void PrintCreated(CliContext context, CreatedKeyView key)
    {
        if (context.Json)
        {
            context.Write(key, MeshJsonContext.Default.CreatedKeyView);
            return;
        }
        var now = context.Console.Time.GetUtcNow();
        context.Out.WriteLine($"Minted {key.KeyId}{(key.Name is null ? "" : $" ({key.Name})")}: scopes {string.Join(",", key.Scopes)}, cluster {key.Cluster}, expires {(key.ExpiresAt is { } e ? Times.Until(e, now) : "never")}.");
        context.Out.WriteLine(context.Style.Dim("The secret is shown only now:"));
        context.Out.WriteLine(key.SessionKey);
        context.Out.WriteLine(context.Style.Dim($"  export {CliContext.KeyVariable}={key.SessionKey}"));
    }
}
