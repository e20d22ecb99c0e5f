using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;
using SessionMesh.Contracts;
using SessionMesh.Mesh;
using SessionMesh.Model;
using SessionMesh.Security;

namespace SessionMesh.MicroBench;

/// <summary>
/// One heartbeat through <see cref="SessionService.HeartbeatAsync"/>, the hot path of a fleet, on a real SQLite store
/// in a temp directory: what it costs in time and allocation once the request is parsed and authenticated.
/// The baseline is the cheapest mesh read of the same session, so the ratio says what renewing adds.
/// </summary>
[MemoryDiagnoser]
public class HeartbeatBenchmark
{
    private const int Sessions = 500;
    private readonly HeartbeatRequest _request = new() { Load = 0.5 };
    private ServiceProvider _services = null!;
    private SessionService _sessions = null!;
    private MeshCaller _caller = null!;
    private string[] _sessionIds = [];
    private string _dataDir = "";
    private int _next;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _dataDir = Directory.CreateTempSubdirectory("session-mesh-microbench-").FullName;
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSessionMesh().UseSqlite(Path.Combine(_dataDir, "bench.db"));
        _services = services.BuildServiceProvider();
        await _services.GetRequiredService<Store.IMeshStore>().MigrateAsync(CancellationToken.None);
        await _services.GetRequiredService<MeshMaintenance>().LeadAsync(CancellationToken.None);
        _sessions = _services.GetRequiredService<SessionService>();
        _caller = new MeshCaller(ApiKeyRecord.RootKeyId, "default", MeshScopes.Admin, null, null);
        _sessionIds = new string[Sessions];
        for (var i = 0; i < Sessions; i++)
        {
            var joined = await _sessions.JoinAsync(_caller, new JoinRequest { AgentId = $"hb-{i}", Ttl = 3600 }, CancellationToken.None);
            _sessionIds[i] = joined.SessionId;
        }
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _services.DisposeAsync();
        Directory.Delete(_dataDir, recursive: true);
    }

    [Benchmark(Baseline = true)]
    public Task<SessionView> GetSession() => _sessions.GetAsync(_caller, NextSession(), CancellationToken.None);

    [Benchmark]
    public ValueTask<HeartbeatResponse> Heartbeat() => _sessions.HeartbeatAsync(_caller, NextSession(), _request, CancellationToken.None);

    private string NextSession() => _sessionIds[_next++ % Sessions];
}
