using System.Text.Json;
using System.Threading.Channels;
using SessionMesh.Client;
using SessionMesh.Contracts;

namespace SessionMesh.Cli.Agent;

/// <summary>
/// <c>session-mesh agent</c> at work: one joined <see cref="MeshAgent"/> and the child it runs. Directives go to the
/// child's stdin and are acked once written; an interrupt restarts the child with the directive; a kill stops the
/// child's whole tree before it is acked; the child's own exit ends the session <c>left</c> with its exit code.
/// Everything that happens is an event handled in turn by one loop, so no two of these race.
/// </summary>
internal sealed class AgentWrapper(CliContext context, MeshAgent agent, WrapperSettings settings, LogShipper logs)
{
    /// <summary>The variable an interrupt's directive reaches the restarted child in (it is on stdin too).</summary>
    public const string DirectiveVariable = "SESSION_MESH_DIRECTIVE";

    private static readonly TimeSpan s_leftoverGrace = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan s_outputReadTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan s_handTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan s_killAckMargin = TimeSpan.FromSeconds(2);
    private readonly Channel<WrapperEvent> _events = Channel.CreateUnbounded<WrapperEvent>(new UnboundedChannelOptions { SingleReader = true });
    private ChildProcess _child = null!;

    private TimeProvider Time => context.Console.Time;

    /// <summary>Runs the child until it exits, the agent is killed, or <paramref name="stop"/> fires; returns the wrapper's exit code.</summary>
    public async Task<int> RunAsync(CancellationToken stop)
    {
        _child = StartChild(null);
        using var pumpStop = new CancellationTokenSource();
        var pump = PumpCommandsAsync(pumpStop.Token);
        using var onKilled = agent.Killed.Register(() => _events.Writer.TryWrite(new WrapperEvent.Killed()));
        using var onStop = stop.Register(() => _events.Writer.TryWrite(new WrapperEvent.Stop()));
        try
        {
            await foreach (var item in _events.Reader.ReadAllAsync(CancellationToken.None))
            {
                switch (item)
                {
                    case WrapperEvent.Directive directive:
                        try
                        {
                            await HandAsync(directive.Command, stop);
                        }
                        catch (OperationCanceledException) when (stop.IsCancellationRequested)
                        {
                            // The Stop event is queued behind this one.
                        }
                        break;
                    case WrapperEvent.ChildExited exited when exited.Child == _child:
                        return await FinishExitedAsync();
                    case WrapperEvent.Killed:
                        return await FinishKilledAsync();
                    case WrapperEvent.Stop:
                        return await FinishStoppedAsync();
                    case WrapperEvent.Failed failed:
                        await _child.StopTreeAsync(settings.Grace, Time);
                        await DrainLogsAsync();
                        throw failed.Error;
                }
            }
            return ExitCodes.Error;
        }
        finally
        {
            await pumpStop.CancelAsync();
            await pump;
            _child.Dispose();
        }
    }

    private ChildProcess StartChild(string? directive)
    {
        var environment = new Dictionary<string, string>(settings.Environment, StringComparer.Ordinal)
        {
            ["SESSION_MESH_SESSION_ID"] = agent.Session.SessionId,
        };
        if (directive is not null)
        {
            environment[DirectiveVariable] = directive;
        }
        var child = ChildProcess.Start(settings.Command, settings.Arguments, environment, logs.OnLine);
        _ = child.Exited.ContinueWith(_ => _events.Writer.TryWrite(new WrapperEvent.ChildExited(child)), TaskScheduler.Default);
        context.Trace($"started {settings.Command} as pid {child.Pid}");
        return child;
    }

    private async Task PumpCommandsAsync(CancellationToken cancellationToken)
    {
        await Task.Yield();
        try
        {
            await foreach (var command in agent.ReadCommandsAsync(cancellationToken))
            {
                _events.Writer.TryWrite(new WrapperEvent.Directive(command));
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested || agent.Killed.IsCancellationRequested)
        {
            // Stopped, or the agent was killed (the Killed event says so).
        }
        catch (Exception ex) when (ex is SessionMeshException or SessionMeshConnectionException)
        {
            _events.Writer.TryWrite(new WrapperEvent.Failed(ex));
        }
    }

    /// <summary>Hands a directive to the child (an interrupt restarts it first), then acks it.</summary>
    private async Task HandAsync(CommandView command, CancellationToken stop)
    {
        var line = DirectiveLine.Of(command).ToJson();
        if (command.Mode == "interrupt")
        {
            context.Trace($"interrupt {command.CommandId}: restarting the child");
            var previous = _child;
            await previous.StopTreeAsync(settings.Grace, Time);
            previous.Dispose();
            _child = StartChild(line);
        }
        var handed = await _child.HandAsync(line, s_handTimeout, stop);
        var result = handed ? null : (JsonElement?)JsonSerializer.SerializeToElement("the child was not reading its standard input", CliJsonContext.Default.String);
        await AckWithRetriesAsync(command, handed ? "acked" : "failed", result, stop);
    }

    /// <summary>Ships the child's last lines: those it wrote before it exited are read first (the tree is stopped by now).</summary>
    private async Task DrainLogsAsync()
    {
        await _child.OutputReadAsync(s_outputReadTimeout);
        await logs.DrainAsync();
    }

    private async Task<int> FinishExitedAsync()
    {
        var exitCode = await _child.Exited;
        context.Trace($"the child exited with {exitCode}");
        // The wrapper leaves no orphan behind: what the child started and left running is stopped too.
        await _child.StopTreeAsync(s_leftoverGrace, Time);
        await DrainLogsAsync();
        await LeaveAsync(exitCode);
        return exitCode;
    }

    private async Task<int> FinishKilledAsync()
    {
        var kill = agent.KillCommand;
        // No kill command: a force kill (the session is already over) or a newer join took the agent over. Stop now.
        var grace = kill is null ? TimeSpan.Zero : KillGrace(kill);
        context.Trace($"killed ({agent.EndReason}): stopping the process tree, grace {grace.TotalSeconds}s");
        var forced = await _child.StopTreeAsync(grace, Time);
        var exitCode = await _child.Exited;
        await DrainLogsAsync();
        if (kill is not null)
        {
            var result = JsonSerializer.SerializeToElement(new KillResult { ExitCode = exitCode, Forced = forced }, CliJsonContext.Default.KillResult);
            await AckWithRetriesAsync(kill, "acked", result, CancellationToken.None);
        }
        context.Error.WriteLine($"session-mesh: agent {agent.AgentId} was {(kill is null ? "stopped" : "killed")} ({agent.EndReason}); its processes are gone.");
        return exitCode;
    }

    /// <summary>
    /// SIGTERM-to-SIGKILL time for a kill: its grace period, less a margin so the SIGKILL and the ack land before the
    /// mesh's own deadline (created_at + grace_period), when it would end the session without the child's status.
    /// </summary>
    private TimeSpan KillGrace(CommandView kill)
    {
        var grace = TimeSpan.FromSeconds(kill.GracePeriod ?? settings.DefaultKillGraceSeconds);
        var margin = TimeSpan.FromTicks(Math.Min(s_killAckMargin.Ticks, grace.Ticks / 2));
        var left = kill.CreatedAt + grace - Time.GetUtcNow() - margin;
        return left < TimeSpan.Zero ? TimeSpan.Zero : left > grace ? grace - margin : left;
    }

    private async Task<int> FinishStoppedAsync()
    {
        context.Trace("signalled: stopping the child and leaving");
        await _child.StopTreeAsync(settings.Grace, Time);
        var exitCode = await _child.Exited;
        await DrainLogsAsync();
        await LeaveAsync(exitCode);
        return exitCode;
    }

    private async Task LeaveAsync(int exitCode)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            if (settings.BeforeLeave is { } beforeLeave)
            {
                await beforeLeave(timeout.Token);
            }
            await agent.LeaveAsync(exitCode, timeout.Token);
        }
        catch (Exception ex) when (ex is SessionMeshException or SessionMeshConnectionException or OperationCanceledException)
        {
            context.Error.WriteLine($"session-mesh: could not leave the mesh ({ex.Message}); the session expires with its lease.");
        }
    }

    /// <summary>
    /// Acks until the server takes it: a directive the child was handed must not be handed again after a reconnect,
    /// and a kill's ack is what ends the session. Gives up when the command or session is gone (4xx) or on <paramref name="stop"/>.
    /// </summary>
    private async Task AckWithRetriesAsync(CommandView command, string status, JsonElement? result, CancellationToken stop)
    {
        var giveUp = Time.GetUtcNow() + TimeSpan.FromMinutes(2);
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await agent.AckAsync(command, status, result, stop);
                return;
            }
            catch (SessionMeshException ex) when (ex.Status is >= 400 and < 500 && ex.Status != 429)
            {
                context.Trace($"ack of {command.CommandId} refused: {ex.Message}");
                return;
            }
            catch (Exception ex) when (ex is SessionMeshException or SessionMeshConnectionException && Time.GetUtcNow() < giveUp && !stop.IsCancellationRequested)
            {
                context.Trace($"ack of {command.CommandId} failed ({ex.Message}); retrying");
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(2000, 100 * Math.Pow(2, Math.Min(attempt, 5)))), Time, stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is SessionMeshException or SessionMeshConnectionException)
            {
                context.Error.WriteLine($"session-mesh: could not ack {command.CommandId}: {ex.Message}");
                return;
            }
        }
    }
}
