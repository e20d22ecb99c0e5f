using System.CommandLine;
using System.Text.Json;
using SessionMesh.Contracts;

namespace SessionMesh.Cli.Commands;

/// <summary><c>session-mesh message --agent-id ID --text TEXT</c>: send an agent a message, delivered like a steer.</summary>
internal static class MessageCommand
{
    public static Command Create(CliApp app)
    {
        var agentId = new Option<string>("--agent-id") { Description = "The agent to send it to", HelpName = "ID", Required = true };
        var text = new Option<string>("--text", "-t") { Description = "The message", HelpName = "TEXT", Required = true };
        var from = new Option<string?>("--from") { Description = "The sending agent's id, when an agent speaks to another", HelpName = "AGENT_ID" };
        var payload = new Option<string?>("--payload") { Description = "JSON handed to the agent with the message", HelpName = "JSON" };
        payload.Validators.Add(result =>
        {
            if (result.Tokens.Count > 0 && !SteerCommand.IsJson(result.Tokens[0].Value))
            {
                result.AddError($"--payload is not valid JSON: {result.Tokens[0].Value}");
            }
        });
        var ttl = new Option<int?>("--ttl") { Description = "Seconds it may wait undelivered before it expires", HelpName = "SECONDS" };
        var queue = new Option<bool>("--queue") { Description = "Queue for an agent that is not alive (instead of failing with 409)" };
        var wait = new Option<bool>("--wait") { Description = "Wait until the agent acks, rejects or fails it" };
        var timeout = new Option<int>("--timeout") { Description = "With --wait: give up after this many seconds", HelpName = "SECONDS", DefaultValueFactory = _ => 60 };
        var command = new Command("message", "Send an agent a message, delivered on its command stream like a steer.")
        {
            agentId, text, from, payload, ttl, queue, wait, timeout,
        };
        app.Examples(command,
            "session-mesh message --agent-id 123 --text \"summarise what you have so far\"",
            "session-mesh message --agent-id 123 --text \"plan ready\" --from planner-7 --queue");
        app.SetAction(command, async (context, parseResult, cancellationToken) =>
        {
            var request = new MessageRequest
            {
                Text = parseResult.GetRequiredValue(text),
                From = parseResult.GetValue(from),
                Payload = parseResult.GetValue(payload) is { } json ? JsonDocument.Parse(json).RootElement.Clone() : null,
                Ttl = parseResult.GetValue(ttl),
                QueueIfOffline = parseResult.GetValue(queue) ? true : null,
            };
            using var client = context.CreateClient();
            var sent = await client.SendMessageAsync(parseResult.GetRequiredValue(agentId), request, null, cancellationToken);
            if (parseResult.GetValue(wait))
            {
                var seconds = parseResult.GetValue(timeout);
                sent = await CommandsCommand.WaitAsync(client, sent.CommandId, TimeSpan.FromSeconds(seconds), cancellationToken);
                CommandsCommand.Print(context, sent);
                if (!CommandsCommand.IsFinal(sent))
                {
                    context.Error.WriteLine($"session-mesh: message {sent.CommandId} is still '{sent.Status}' after {seconds}s; check later with `session-mesh command get {sent.CommandId} --wait`.");
                }
                return sent.Status == "acked" ? ExitCodes.Ok : ExitCodes.Error;
            }
            CommandsCommand.Print(context, sent);
            return ExitCodes.Ok;
        });
        return command;
    }
}
