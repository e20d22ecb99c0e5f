using System.Diagnostics.Metrics;
using SessionMesh.Mesh;
using SessionMesh.Model;

namespace SessionMesh.Server.Observability;

/// <summary>The mesh's own instruments (meter <c>SessionMesh</c>), exported at <c>/metrics</c>.</summary>
internal sealed class MeshMetrics
{
    public const string MeterName = "SessionMesh";

    private readonly MeshService _mesh;
    private readonly Counter<long> _heartbeats;
    private volatile IReadOnlyDictionary<SessionStatus, long> _sessions = new Dictionary<SessionStatus, long>();

    public MeshMetrics(IMeterFactory meterFactory, MeshService mesh)
    {
        _mesh = mesh;
        var meter = meterFactory.Create(MeterName);
        _heartbeats = meter.CreateCounter<long>("session_mesh.heartbeats", "{heartbeat}", "Heartbeats received.");
        meter.CreateObservableGauge("session_mesh.sessions", ObserveSessions, "{session}", "Open sessions by status.");
    }

    public void Heartbeat() => _heartbeats.Add(1);

    /// <summary>Re-reads the counts that the sessions gauge reports (the gauge's callback cannot do I/O).</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken) =>
        _sessions = await _mesh.Store.CountSessionsAsync(_mesh.Time.GetUtcNow(), cancellationToken);

    private IEnumerable<Measurement<long>> ObserveSessions()
    {
        var counts = _sessions;
        foreach (var status in new[] { SessionStatus.Active, SessionStatus.Idle, SessionStatus.Stale })
        {
            yield return new Measurement<long>(counts.GetValueOrDefault(status), new KeyValuePair<string, object?>("status", status.ToWire()));
        }
    }
}
