using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Postgres;

/// <summary>
/// Several <c>session-mesh serve</c> processes on one PostgreSQL database, as replicas behind a load balancer run:
/// each with a data directory of its own, all with the same root key. Sweeps and lease checkpoints run fast
/// (<see cref="Interval"/>) so fail-over shows within a test.
/// </summary>
public sealed class PostgresReplicas : IAsyncDisposable
{
    /// <summary>The sweep and lease checkpoint interval of every replica.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);

    public const string RootKey = "replica-root-key-0123456789abcdef";

    private readonly TempDirectory _directory = new();
    private readonly List<ServeProcess?> _processes = [];
    private readonly List<HttpClient> _clients = [];
    private readonly List<string> _addresses = [];

    private PostgresReplicas(PostgresTestDatabase database) => Database = database;

    public PostgresTestDatabase Database { get; }

    public int Count => _processes.Count;

    // Extra environment variables of every replica (e.g. SESSION_MESH_WEBHOOK_ALLOWED_HOSTS).
    private IReadOnlyDictionary<string, string>? _environment;

    public HttpClient this[int replica] => _clients[replica];

    public string Address(int replica) => _addresses[replica];

    public ServeProcess Process(int replica) => _processes[replica] ?? throw new InvalidOperationException($"Replica {replica} was killed.");

    /// <summary>Starts <paramref name="count"/> replicas on <paramref name="database"/>, all at once (they migrate together).</summary>
    public static async Task<PostgresReplicas> StartAsync(PostgresTestDatabase database, int count, IReadOnlyDictionary<string, string>? environment = null, params string[] extraArguments)
    {
        var replicas = new PostgresReplicas(database) { _environment = environment };
        for (var i = 0; i < count; i++)
        {
            replicas._processes.Add(replicas.StartProcess(i, extraArguments));
        }
        foreach (var process in replicas._processes)
        {
            var address = await process!.AddressAsync();
            replicas._addresses.Add(address);
            replicas._clients.Add(ClientFor(address, RootKey));
        }
        return replicas;
    }

    /// <summary>The replica (other than <paramref name="except"/>) whose log says it took the lead, waiting up to 30 s for one.</summary>
    public async Task<int> WaitForLeaderAsync(int except = -1)
    {
        const string leads = "This server leads expiry now";
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            for (var i = 0; i < Count; i++)
            {
                if (i != except && _processes[i] is { } process && process.Output.Contains(leads, StringComparison.Ordinal))
                {
                    return i;
                }
            }
            Assert.True(DateTimeOffset.UtcNow < deadline, "No replica took the lead within 30 s.");
            await Task.Delay(TimeSpan.FromMilliseconds(100), TestContext.Current.CancellationToken);
        }
    }

    /// <summary>SIGKILL of one replica: no shutdown, no last checkpoint, its connections just close.</summary>
    public async Task KillAsync(int replica)
    {
        await Process(replica).KillAsync();
        await Process(replica).DisposeAsync();
        _processes[replica] = null;
    }

    /// <summary>An HTTP client of one replica, authenticated with <paramref name="key"/>.</summary>
    public static HttpClient ClientFor(string address, string key)
    {
        var client = new HttpClient { BaseAddress = new Uri(address + "/"), Timeout = TestTimeouts.Request };
        client.DefaultRequestHeaders.Authorization = new("Bearer", key);
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            client.Dispose();
        }
        foreach (var process in _processes)
        {
            if (process is not null)
            {
                await process.DisposeAsync();
            }
        }
        _directory.Dispose();
    }

    private ServeProcess StartProcess(int replica, string[] extraArguments)
    {
        var interval = Interval.ToString("c", System.Globalization.CultureInfo.InvariantCulture);
        var environment = new Dictionary<string, string>(_environment ?? new Dictionary<string, string>()) { ["SESSION_MESH_ROOT_KEY"] = RootKey };
        return ServeProcess.Start(_directory.Path,
            ["--listen", "http://127.0.0.1:0", "--store", Database.ConnectionString, "--data-dir", $"replica-{replica}",
             $"--Mesh:SweepInterval={interval}", $"--Mesh:LeaseCheckpointInterval={interval}", .. extraArguments],
            environment);
    }
}
