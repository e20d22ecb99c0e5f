using System.CommandLine;
using System.Runtime.InteropServices;
using SessionMesh.Client;
using SessionMesh.Contracts;

namespace SessionMesh.Cli.Agent;

/// <summary><c>session-mesh agent -- COMMAND</c>: run any program as a mesh agent (see docs/agents.md).</summary>
internal static class AgentCommand
{
    public const string Name = "agent";
    public const string AgentIdVariable = "SESSION_MESH_AGENT_ID";
    public const string SessionIdVariable = "SESSION_MESH_SESSION_ID";
    public const string AgentKeyVariable = "SESSION_MESH_AGENT_KEY";

    public static Command Create(CliApp app)
    {
        var agentId = new Option<string>("--agent-id") { Description = "The agent's id", HelpName = "ID", Required = true };
        var spec = new Option<string[]>("--spec") { Description = "A specialization to register with the join (repeatable)", HelpName = "S" };
        var parent = new Option<string?>("--parent") { Description = "The agent that spawned this one (default: $SESSION_MESH_AGENT_ID when run under another agent)", HelpName = "ID" };
        var ttl = new Option<int?>("--ttl") { Description = "Lease length in seconds (server default 30)", HelpName = "SECONDS" };
        var label = new Option<string[]>("--label", "-l") { Description = "A label k=v (repeatable)", HelpName = "K=V" };
        var maxRuntime = new Option<int?>("--max-runtime") { Description = "Seconds after which the mesh kills the agent (max_runtime_exceeded)", HelpName = "SECONDS" };
        var grace = new Option<int>("--grace") { Description = "Seconds between SIGTERM and SIGKILL when the wrapper stops the child itself (Ctrl+C, an interrupt)", HelpName = "SECONDS", DefaultValueFactory = _ => 10 };
        var stallAfter = new Option<int?>("--stall-after") { Description = "Seconds without progress after which the mesh counts the agent as stalled (see docs/progress-and-budgets.md)", HelpName = "SECONDS" };
        var onStall = new Option<string?>("--on-stall") { Description = "What the mesh does when the agent stalls: none (default), message or kill; needs --stall-after", HelpName = "ACTION" };
        onStall.AcceptOnlyFromAmong("none", "message", "kill");
        var budget = new Option<string[]>(BudgetArgument.Option) { Description = $"Limits over the agent's sub-tree, k=v[,k=v] with keys {string.Join(", ", BudgetArgument.Keys)} (repeatable)", HelpName = "K=V" };
        var noLogs = new Option<bool>("--no-logs") { Description = "Do not ship the child's output to the mesh (it is still echoed)" };
        var command = new Argument<string[]>("command") { Description = "The program to run and its arguments, after --", Arity = ArgumentArity.OneOrMore, HelpName = "COMMAND" };
        var agent = new Command(Name, "Join as an agent and run COMMAND as its child: directives arrive on its stdin, a kill stops its whole process tree, its output is shipped to `session-mesh logs`.")
        {
            agentId, spec, parent, ttl, label, maxRuntime, stallAfter, onStall, budget, grace, noLogs, command,
        };
        app.Examples(agent,
            "session-mesh agent --agent-id worker-1 --spec data-analysis -- python3 worker.py",
            "session-mesh agent --agent-id sub-1 --parent \"$SESSION_MESH_AGENT_ID\" -- ./step.sh",
            "session-mesh agent --agent-id job-7 --max-runtime 600 --label team=ml -- bash -c 'make train'",
            "session-mesh agent --agent-id coder-1 --stall-after 300 --on-stall kill --budget tokens=200000,cost_usd=3 -- ./code.sh");
        app.SetAction(agent, async (context, parseResult, cancellationToken) =>
        {
            var argv = CommandLine(parseResult.GetValue(command), "session-mesh agent --agent-id worker-1 -- python3 worker.py");
            var id = parseResult.GetRequiredValue(agentId);
            var stall = parseResult.GetValue(stallAfter);
            if (stall is < 1)
            {
                throw CliException.Usage($"--stall-after {stall} is not a number of seconds, 1 or more");
            }
            if (parseResult.GetValue(onStall) is not null && stall is null)
            {
                throw CliException.Usage("--on-stall needs --stall-after: the seconds without progress that count as a stall");
            }
            var options = new MeshAgentOptions
            {
                AgentId = id,
                ParentId = parseResult.GetValue(parent) ?? ParentFromEnvironment(context),
                Specializations = parseResult.GetValue(spec)?.Select(s => new SpecializationInput { Name = s }).ToList(),
                Labels = ParseLabels(parseResult.GetValue(label)),
                Ttl = parseResult.GetValue(ttl),
                MaxRuntime = parseResult.GetValue(maxRuntime),
                StallAfter = stall,
                OnStall = parseResult.GetValue(onStall),
                Budget = BudgetArgument.Parse(parseResult.GetValue(budget)),
                AckKillOnArrival = false,
            };
            return await RunAsync(context, options, argv, TimeSpan.FromSeconds(Math.Max(0, parseResult.GetValue(grace))), !parseResult.GetValue(noLogs), null, cancellationToken);
        });
        return agent;
    }

    /// <summary>The program after <c>--</c>, checked to exist; a usage error naming <paramref name="example"/> otherwise.</summary>
    public static string[] CommandLine(string[]? argv, string example)
    {
        if (argv is not { Length: > 0 } || string.IsNullOrWhiteSpace(argv[0]))
        {
            throw CliException.Usage($"no command to run: put it after --, e.g. {example}");
        }
        if (ExecutableLookup.Find(argv[0]) is null)
        {
            throw CliException.Usage($"command not found: '{argv[0]}' is not an executable file or on PATH");
        }
        return argv;
    }

    /// <summary>The parent a nested wrapper joins under: the agent it runs inside, if any.</summary>
    public static string? ParentFromEnvironment(CliContext context) => NonEmpty(context.Console.GetEnvironmentVariable(AgentIdVariable));

    /// <summary>
    /// Joins as an agent and runs <paramref name="argv"/> as its child until it exits, is killed or the wrapper is
    /// signalled (<see cref="AgentWrapper"/>); returns the child's exit code. <paramref name="onJoined"/>, when given,
    /// runs once the session is open and before the child starts (<c>session-mesh lock</c> takes its lock there): it
    /// returns variables for the child's environment, what to do before the session is left, and a token that stops
    /// the child when what it was given is lost.
    /// </summary>
    public static async Task<int> RunAsync(CliContext context, MeshAgentOptions options, string[] argv, TimeSpan grace, bool shipLogs, OnJoined? onJoined, CancellationToken cancellationToken)
    {
        using var stop = new CancellationTokenSource();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop(stop));
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop(stop));
        using var client = context.CreateClient();
        MeshAgent joined;
        try
        {
            joined = await MeshAgent.JoinAsync(client, options, cancellationToken);
        }
        catch (SessionMeshException ex) when (ex.Status is >= 400 and < 500)
        {
            // A join the server refuses is a usage problem of this command line (bad id, spawn limit, scope).
            throw CliException.Usage($"the mesh refused the join of '{options.AgentId}': {ErrorMessages.Describe(ex, context.Server)}");
        }
        await using (joined)
        {
            JoinedWith? joinedWith = null;
            if (onJoined is not null)
            {
                // Ctrl+C while the hook waits (for a lock) stops the wait too.
                using var hookStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stop.Token);
                try
                {
                    joinedWith = await onJoined(client, joined, hookStop.Token);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return 130; // as CliApp answers a cancelled run: 128 + SIGINT
                }
            }
            var childKey = await MintChildKeyAsync(context, client, options.AgentId, cancellationToken);
            var environment = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                [AgentIdVariable] = options.AgentId,
                // Every replica the wrapper was given, so the child fails over as the wrapper does.
                [CliContext.ServerVariable] = string.Join(",", context.FailoverServers.Prepend(context.Server)),
            };
            foreach (var (name, value) in joinedWith?.Environment ?? new Dictionary<string, string>())
            {
                environment[name] = value;
            }
            if (childKey is not null)
            {
                environment[AgentKeyVariable] = childKey.SessionKey;
            }
            var settings = new WrapperSettings
            {
                Command = argv[0],
                Arguments = argv[1..],
                Environment = environment,
                Grace = grace,
                BeforeLeave = joinedWith?.BeforeLeave,
            };
            // Something the hook holds was lost (a lock's own TTL passed): stop the child as a signal would.
            using var onLost = joinedWith?.Lost.Register(() => stop.Cancel());
            LinuxNative.BecomeChildSubreaper();
            var logs = new LogShipper(context, shipLogs ? client : null, options.AgentId);
            try
            {
                return await new AgentWrapper(context, joined, settings, logs).RunAsync(stop.Token);
            }
            finally
            {
                if (childKey is not null)
                {
                    await RevokeQuietlyAsync(client, childKey.KeyId);
                }
            }
        }
    }

    /// <summary>What runs between the join and the child's start, in <see cref="RunAsync"/>.</summary>
    public delegate Task<JoinedWith> OnJoined(SessionMeshClient client, MeshAgent agent, CancellationToken cancellationToken);

    /// <summary>What an <see cref="OnJoined"/> hook gives the child (environment variables) and asks before the leave.</summary>
    public sealed record JoinedWith(IReadOnlyDictionary<string, string> Environment, Func<CancellationToken, Task>? BeforeLeave, CancellationToken Lost = default);

    private static Action<PosixSignalContext> Stop(CancellationTokenSource stop) => signal =>
    {
        // Handled here: the wrapper stops its child and leaves before it exits.
        signal.Cancel = true;
        stop.Cancel();
    };

    /// <summary>
    /// A key bound to this agent for the child (agent and read scopes, as far as the wrapper's key allows), so the
    /// child can act as its agent without the wrapper's own key. Null when the wrapper's key may not mint one.
    /// </summary>
    private static async Task<CreatedKeyView?> MintChildKeyAsync(CliContext context, SessionMeshClient client, string agentId, CancellationToken cancellationToken)
    {
        try
        {
            var self = await client.GetSelfKeyAsync(cancellationToken);
            var admin = self.Scopes.Contains("admin");
            var scopes = admin ? ["agent", "read"] : self.Scopes.Intersect(["agent", "read"]).ToList();
            var mayMint = admin || self.Scopes.Contains("keys");
            if (!mayMint || scopes.Count == 0)
            {
                return null;
            }
            var ttl = self.ExpiresAt is { } expires ? (int?)Math.Max(1, (int)(expires - context.Console.Time.GetUtcNow()).TotalSeconds - 1) : null;
            return await client.CreateKeyAsync(new CreateKeyRequest { Scopes = scopes, AgentId = agentId, Ttl = ttl, Name = $"session-mesh agent {agentId}" }, null, cancellationToken);
        }
        catch (SessionMeshException ex)
        {
            context.Trace($"no key minted for the child: {ex.Message}");
            return null;
        }
    }

    private static async Task RevokeQuietlyAsync(SessionMeshClient client, string keyId)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await client.RevokeKeyAsync(keyId, timeout.Token);
        }
        catch (Exception ex) when (ex is SessionMeshException or SessionMeshConnectionException or OperationCanceledException)
        {
            // It expires on its own.
        }
    }

    private static Dictionary<string, string>? ParseLabels(string[]? labels)
    {
        if (labels is not { Length: > 0 })
        {
            return null;
        }
        var parsed = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var label in labels)
        {
            var equals = label.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw CliException.Usage($"--label '{label}' is not k=v");
            }
            parsed[label[..equals]] = label[(equals + 1)..];
        }
        return parsed;
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
