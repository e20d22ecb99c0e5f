using System.CommandLine;
using System.Text.Json;
using SessionMesh.Cli.Output;
using SessionMesh.Contracts;

namespace SessionMesh.Cli.Commands;

/// <summary><c>session-mesh steer</c>: push a directive to an agent.</summary>
internal static class SteerCommand
{
    public static Command Create(CliApp app)
    {
        var agentId = new Option<string>("--agent-id") { Description = "The agent to steer", HelpName = "ID", Required = true };
        var direction = new Option<string>("--direction", "-d") { Description = "The directive, e.g. north, or free text (1..4000 characters)", HelpName = "TEXT", Required = true };
        var mode = new Option<string?>("--mode") { Description = "inject (default: delivered in order), interrupt (stop and take this now), enqueue (after current work)", HelpName = "MODE" };
        mode.AcceptOnlyFromAmong("inject", "interrupt", "enqueue");
        var payload = new Option<string?>("--payload") { Description = "JSON handed to the agent with the directive", HelpName = "JSON" };
        payload.Validators.Add(result =>
        {
            if (result.Tokens.Count > 0 && !IsJson(result.Tokens[0].Value))
            {
                result.AddError($"--payload is not valid JSON: {result.Tokens[0].Value}");
            }
        });
        var ttl = new Option<int?>("--ttl") { Description = "Seconds the directive may wait undelivered before it expires", HelpName = "SECONDS" };
        var queue = new Option<bool>("--queue") { Description = "Queue for an agent that is not alive (instead of failing with 409)" };
        var wait = new Option<bool>("--wait") { Description = "Wait until the agent acks, rejects or fails the directive" };
        var timeout = new Option<int>("--timeout") { Description = "With --wait: give up after this many seconds", HelpName = "SECONDS", DefaultValueFactory = _ => 60 };
        var idempotencyKey = new Option<string?>("--idempotency-key") { Description = "Reuse a key to make a repeated steer a no-op (default: a fresh one per call)", HelpName = "KEY" };

        var command = new Command("steer", "Steer an agent: queue a directive on its command stream.")
        {
            agentId, direction, mode, payload, ttl, queue, wait, timeout, idempotencyKey,
        };
        app.Examples(command,
            "session-mesh steer --agent-id 123 --direction west",
            "session-mesh steer --agent-id 123 --direction \"stop and summarise\" --mode interrupt --wait",
            "session-mesh steer --agent-id 456 --direction east --payload '{\"speed\": 2}' --queue");
        app.SetAction(command, async (context, parseResult, cancellationToken) =>
        {
            var request = new SteerRequest
            {
                AgentId = parseResult.GetRequiredValue(agentId),
                Direction = parseResult.GetRequiredValue(direction),
                Mode = parseResult.GetValue(mode),
                Payload = parseResult.GetValue(payload) is { } json ? JsonDocument.Parse(json).RootElement.Clone() : null,
                Ttl = parseResult.GetValue(ttl),
                QueueIfOffline = parseResult.GetValue(queue) ? true : null,
            };
            using var client = context.CreateClient();
            var command = await client.SteerAsync(request, parseResult.GetValue(idempotencyKey), cancellationToken);
            if (!parseResult.GetValue(wait))
            {
                Print(context, command);
                return ExitCodes.Ok;
            }
            if (!context.Json)
            {
                context.Error.WriteLine(context.ErrorStyle.Dim($"{command.CommandId} {command.Status}; waiting for agent {command.AgentId} to ack..."));
            }
            var seconds = parseResult.GetValue(timeout);
            command = await CommandsCommand.WaitAsync(client, command.CommandId, TimeSpan.FromSeconds(seconds), cancellationToken);
            if (!CommandsCommand.IsFinal(command))
            {
                Print(context, command);
                context.Error.WriteLine($"session-mesh: directive {command.CommandId} is still '{command.Status}' after {seconds}s; check later with `session-mesh command get {command.CommandId} --wait`, or see who steered with `session-mesh audit`.");
                return ExitCodes.Error;
            }
            Print(context, command);
            return command.Status == "acked" ? ExitCodes.Ok : ExitCodes.Error;
        });
        return command;
    }

    internal static bool IsJson(string text)
    {
        try
        {
            using var _ = JsonDocument.Parse(text);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static void Print(CliContext context, CommandView command)
    {
        if (context.Json)
        {
            context.Write(command, MeshJsonContext.Default.CommandView);
            return;
        }
        var style = context.Style;
        context.Out.WriteLine($"Steered agent {style.Bold(command.AgentId)}: {command.Direction} ({command.Mode ?? "inject"})");
        context.Out.WriteLine($"  command  {command.CommandId}");
        context.Out.WriteLine($"  status   {style.Status(command.Status)}");
        if (command.Result is { } result)
        {
            context.Out.WriteLine($"  result   {result.GetRawText()}");
        }
    }
}
