using System.CommandLine;
using System.Globalization;
using System.Text;
using SessionMesh.Cli.Agent;
using SessionMesh.Cli.Output;
using SessionMesh.Client;
using SessionMesh.Contracts;

namespace SessionMesh.Cli.Commands;

/// <summary>
/// <c>session-mesh lock NAME -- COMMAND</c>: holds a session-bound lock for the life of a command (Consul's
/// <c>consul lock</c>), and <c>session-mesh locks</c>: the held locks. The command runs as an agent through
/// <see cref="AgentCommand.RunAsync"/>: the same join, heartbeats, kill handling and process-tree stop.
/// </summary>
internal static class LockCommand
{
    public const string Name = "lock";
    public const string LockVariable = "SESSION_MESH_LOCK";
    public const string RevisionVariable = "SESSION_MESH_LOCK_REVISION";

    public static Command Create(CliApp app)
    {
        var name = new Argument<string>("name") { Description = "The lock's name (e.g. repo/main)", HelpName = "NAME" };
        var ttl = new Option<int?>("--ttl") { Description = "Seconds after which the lock is released even if COMMAND still runs (then COMMAND is stopped)", HelpName = "S" };
        var wait = new Option<int?>("--wait") { Description = "Seconds to wait for a held lock to come free (max 300; default: fail at once)", HelpName = "S" };
        var lockDelay = new Option<int?>("--lock-delay") { Description = "Seconds (max 60) nobody may take the lock after this holder dies without releasing it", HelpName = "S" };
        var agentId = new Option<string?>("--agent-id") { Description = "The agent id of the holding session (default: lock-HOST-PID)", HelpName = "ID" };
        var sessionTtl = new Option<int?>("--session-ttl") { Description = "Lease length of the holding session in seconds (server default 30)", HelpName = "S" };
        var grace = new Option<int>("--grace") { Description = "Seconds between SIGTERM and SIGKILL when COMMAND is stopped", HelpName = "S", DefaultValueFactory = _ => 10 };
        var command = new Argument<string[]>("command") { Description = "The program to run while the lock is held, after --", Arity = ArgumentArity.OneOrMore, HelpName = "COMMAND" };
        var lockCommand = new Command(Name, "Hold a lock for the life of COMMAND: join a session, take the lock (waiting with --wait), run COMMAND, then release and leave; exits with COMMAND's exit code. If the session ends (killed, expired) the lock is lost and COMMAND is stopped.")
        {
            name, ttl, wait, lockDelay, agentId, sessionTtl, grace, command,
        };
        app.Examples(lockCommand,
            "session-mesh lock repo/main -- git push origin main",
            "session-mesh lock deploy --wait 120 --lock-delay 15 -- ./deploy.sh",
            "session-mesh lock device-7 --ttl 600 -- python3 flash.py");
        app.SetAction(lockCommand, async (context, parseResult, cancellationToken) =>
        {
            var argv = AgentCommand.CommandLine(parseResult.GetValue(command), "session-mesh lock repo/main -- git push");
            var lockName = parseResult.GetRequiredValue(name);
            var options = new MeshAgentOptions
            {
                AgentId = parseResult.GetValue(agentId) ?? DefaultAgentId(),
                ParentId = AgentCommand.ParentFromEnvironment(context),
                Ttl = parseResult.GetValue(sessionTtl),
                AckKillOnArrival = false,
                // A new session would not hold the lock: when this one ends, the command stops instead.
                Rejoin = false,
            };
            var request = new AcquireLockRequest
            {
                Name = lockName,
                Ttl = parseResult.GetValue(ttl),
                Wait = parseResult.GetValue(wait),
                LockDelay = parseResult.GetValue(lockDelay),
            };
            return await AgentCommand.RunAsync(context, options, argv, TimeSpan.FromSeconds(Math.Max(0, parseResult.GetValue(grace))), shipLogs: true,
                (client, agent, ct) => HoldAsync(context, client, agent, request, ct), cancellationToken);
        });
        return lockCommand;
    }

    public static Command CreateList(CliApp app)
    {
        var list = new Command("locks", "The held locks of the cluster: name, holder, since when, until when.");
        app.Examples(list, "session-mesh locks", "session-mesh locks --output json");
        app.SetAction(list, async (context, parseResult, cancellationToken) =>
        {
            using var client = context.CreateClient();
            var items = new List<LockView>();
            await foreach (var held in client.ListAllLocksAsync(context.Cluster, cancellationToken))
            {
                items.Add(held);
            }
            if (context.Json)
            {
                context.Write(new Page<LockView> { Items = items }, MeshJsonContext.Default.PageLockView);
                return ExitCodes.Ok;
            }
            if (items.Count == 0)
            {
                context.Out.WriteLine("No locks held.");
                return ExitCodes.Ok;
            }
            var now = context.Console.Time.GetUtcNow();
            var table = new Table(["NAME", "AGENT", "SESSION", "ACQUIRED", "EXPIRES", "REVISION"]);
            foreach (var l in items)
            {
                table.Add([l.Name, l.AgentId, l.SessionId, Times.Ago(l.AcquiredAt, now), l.ExpiresAt is { } e ? Times.Until(e, now) : "-", l.Revision?.ToString(CultureInfo.InvariantCulture)]);
            }
            table.Write(context.Out, context.Style);
            return ExitCodes.Ok;
        });
        return list;
    }

    /// <summary>Takes the lock for the joined session; the child learns its name and fencing token from its environment.</summary>
    private static async Task<AgentCommand.JoinedWith> HoldAsync(CliContext context, SessionMeshClient client, MeshAgent agent, AcquireLockRequest request, CancellationToken cancellationToken)
    {
        var (held, _) = await client.AcquireLockAsync(request with { SessionId = agent.Session.SessionId }, cancellationToken);
        context.Trace($"holding lock {held.Name} (revision {held.Revision}) with session {held.SessionId}");
        agent.Killed.Register(() => context.Error.WriteLine($"session-mesh: lock '{held.Name}' lost: its session {held.SessionId} ended ({agent.EndReason ?? "ended"})."));
        var lost = held.ExpiresAt is { } expires
            ? new CancellationTokenSource(expires - context.Console.Time.GetUtcNow() is var left && left > TimeSpan.Zero ? left : TimeSpan.Zero, context.Console.Time)
            : null;
        lost?.Token.Register(() => context.Error.WriteLine($"session-mesh: lock '{held.Name}' lost: its ttl of {held.Ttl} s passed; stopping the command."));
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [LockVariable] = held.Name,
            [RevisionVariable] = (held.Revision ?? 0).ToString(CultureInfo.InvariantCulture),
        };
        return new AgentCommand.JoinedWith(environment, ct => ReleaseAsync(context, client, held.Name, ct), lost?.Token ?? default);
    }

    private static async Task ReleaseAsync(CliContext context, SessionMeshClient client, string name, CancellationToken cancellationToken)
    {
        try
        {
            await client.ReleaseLockAsync(name, null, cancellationToken);
        }
        catch (SessionMeshException ex) when (ex.Status == 404)
        {
            context.Trace($"lock {name} was no longer held");
        }
        catch (Exception ex) when (ex is SessionMeshException or SessionMeshConnectionException or OperationCanceledException)
        {
            // Leaving releases it anyway (with its lock-delay, as for a holder that died).
            context.Error.WriteLine($"session-mesh: could not release lock '{name}' ({ex.Message}); leaving the session releases it.");
        }
    }

    /// <summary>An agent id unique to this process: two <c>lock</c> runs of one name must not supersede each other's session.</summary>
    private static string DefaultAgentId()
    {
        var id = new StringBuilder("lock-");
        foreach (var c in Environment.MachineName)
        {
            id.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '-');
        }
        id.Append('-').Append(Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        return id.Length <= 128 ? id.ToString() : id.ToString(id.Length - 128, 128);
    }
}
