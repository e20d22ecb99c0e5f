using System.Diagnostics.Metrics;
using SessionMesh.Mesh;
using SessionMesh.Model;

namespace SessionMesh.Server.Observability;

/// <summary>The mesh's own instruments (meter <c>SessionMesh</c>), exported at <c>/metrics</c>.</summary>
internal sealed class MeshMetrics
{
    public const string MeterName = "SessionMesh";

    private readonly Store.IMeshStore _store;
    private readonly LeaseTable _leases;
    private readonly TimeProvider _time;
    private readonly Counter<long> _heartbeats;
    private readonly Counter<long> _auditDropped;
    private readonly Histogram<double> _deliveryLatency;
    private volatile IReadOnlyDictionary<CommandStatus, long> _commands = new Dictionary<CommandStatus, long>();
    private volatile IReadOnlyDictionary<SessionStatus, long> _sessions = new Dictionary<SessionStatus, long>();

    public MeshMetrics(IMeterFactory meterFactory, Store.IMeshStore store, LeaseTable leases, TimeProvider time, CommandStream commandStream)
    {
        _store = store;
        _leases = leases;
        _time = time;
        commandStream.Delivered += Delivered;
        var meter = meterFactory.Create(MeterName);
        _heartbeats = meter.CreateCounter<long>("session_mesh.heartbeats", "{heartbeat}", "Heartbeats received.");
        _auditDropped = meter.CreateCounter<long>("session_mesh.audit.dropped", "{entry}", "Audit entries of refused or failed calls that could not be written (logged instead).");
        meter.CreateObservableGauge("session_mesh.sessions", ObserveSessions, "{session}", "Open sessions by status.");
        meter.CreateObservableGauge("session_mesh.commands", ObserveCommands, "{command}", "Commands by state.");
        _deliveryLatency = meter.CreateHistogram("session_mesh.command.delivery_latency", "s", "Time from a command being queued to its first delivery to the agent.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 300, 3600] });
    }

    public void Heartbeat() => _heartbeats.Add(1);

    /// <summary>Counts audit entries the store could not take (they are logged instead).</summary>
    public void AuditDropped(int count) => _auditDropped.Add(count);

    /// <summary>Records the queued→delivered latency of commands handed to an agent for the first time.</summary>
    public void Delivered(IEnumerable<CommandRecord> commands)
    {
        foreach (var command in commands.Where(c => c.DeliveryCount == 1 && c.DeliveredAt is not null))
        {
            _deliveryLatency.Record((command.DeliveredAt!.Value - command.CreatedAt).TotalSeconds, new KeyValuePair<string, object?>("kind", command.Kind.ToWire()));
        }
    }

    /// <summary>Re-reads the counts the gauges report (a gauge's callback cannot do I/O).</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        // Sessions are counted by status in the store, i.e. by lease fields: the renewals so far must be in it.
        await _leases.FlushAsync(cancellationToken);
        _sessions = await _store.CountSessionsAsync(_time.GetUtcNow(), cancellationToken);
        _commands = await _store.CountCommandsAsync(cancellationToken);
    }

    private IEnumerable<Measurement<long>> ObserveCommands()
    {
        var counts = _commands;
        foreach (var status in Enum.GetValues<CommandStatus>())
        {
            yield return new Measurement<long>(counts.GetValueOrDefault(status), new KeyValuePair<string, object?>("state", status.ToWire()));
        }
    }

    private IEnumerable<Measurement<long>> ObserveSessions()
    {
        var counts = _sessions;
        foreach (var status in new[] { SessionStatus.Active, SessionStatus.Idle, SessionStatus.Stalled, SessionStatus.Stale })
        {
            yield return new Measurement<long>(counts.GetValueOrDefault(status), new KeyValuePair<string, object?>("status", status.ToWire()));
        }
    }
}
