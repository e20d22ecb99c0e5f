using System.Globalization;

namespace SessionMesh.LoadGen;

/// <summary>The load generator's command line; every loop it drives is bounded by these numbers.</summary>
internal sealed record LoadGenOptions
{
    public const string Usage = """
        Usage: dotnet run -c Release --project bench/SessionMesh.LoadGen -- [options]

        Starts three processes on 127.0.0.1 — a bare Kestrel baseline, `session-mesh serve` on a fresh temp
        SQLite store, and etcd when it is installed — drives each with the same closed-loop HTTP workers at
        each connection count, and prints markdown tables of req/s, latency and ratios (progress goes to stderr).

          --scenario replicas   three `serve` replicas on the PostgreSQL database of --postgres "Host=...;Database=..."
                                (an empty one): cross-replica steer->delivery latency, and heartbeat and join
                                throughput on PostgreSQL against SQLite in the same run
          --duration SECONDS    measured window of each scenario (default 5, 1..600)
          --warmup SECONDS      per scenario, in a warm-up round run before anything is measured (default 2, 0..60)
          --connections LIST    closed-loop workers, one connection each, e.g. 16,64 (default 16,64; each 1..512)
          --sessions N          sessions (and etcd leases) the heartbeat (keepalive) scenario cycles through (default 500, 1..100000)
          --streams N           agents holding SSE command streams for the steer scenario (default 50, 1..2000)
          --writes N            writes timed from write to watcher, per watch scenario (default 200, 1..10000)
          --agents N            agents joined, then streaming, for the memory probe (default 2000, 0..10000)
          --max-requests N      cap on requests per worker per scenario (default 1000000)
          --scenario NAME       default (the tables above), scale (the engine's scale targets instead), or soak (a long run; see below)
          --server-dll PATH     session-mesh.dll to run (default: src/SessionMesh.Cli's build in the bench's configuration)
          --baseline-dll PATH   SessionMesh.Baseline.dll to run (default: its build in the bench's configuration)
          --etcd PATH|none      etcd binary for the peer rows (default: `etcd` on PATH; rows skipped when absent)
          --help                this text

        --scenario scale runs only the scale targets, against the server alone (no baseline, no etcd), each reported
        with its figure, its target and whether it is met. Sizes (lower them for a smoke run):
          --scale-sessions N      sessions for GET /alive, the restart and the expiry (default 100000, 1..1000000)
          --scale-streams N       agents holding command streams while steered (default 10000, 1..200000)
          --scale-steer-rate N    offered steers per second, open loop (default 1000, 1..100000)
          --scale-steer-seconds N how long the steers are offered (default 10, 1..600)
          --scale-rss-streams N   also the server's RSS with N streams open, e.g. 50000 (default 0: off)
          --scale-expiry-ttl N    TTL in seconds of the sessions that expire together (default 10, 1..3600)
          --scale-watchers N      idle GET /events watchers open during the second join window (default 2000, 1..100000)
          --scale-alive-requests N GET /alive requests timed, one at a time (default 300, 1..100000)
          --scale-parallelism N   concurrent joins, steers and stream opens while setting up (default 64, 1..1024)
          --scale-stream-hosts N  processes that hold row 1's command streams, as a fleet's agents are processes of
                                  their own (default 4, 0..64; 0: the generator's own process)
          --scale-budget MINUTES  hard limit of the whole scale run (default 15, 1..180)
          --scale-steer-log PATH  also write row 1's steers to PATH, one per line in the order sent: its start (ms after
                                  the first) and its steer -> frame latency (ms), to see when the slow ones came;
                                  row 1r's (the bare relay's) to PATH.1r
          --duration also sets each join window (without and with the watchers).

        --scenario soak runs one server for a long time under a steady fleet: agents heartbeating, steers to the agents
        holding command streams (which ack them), forced kills of the others (each joins again on its next heartbeat's
        410). Reports the server's RSS at the start and end of the load, errors, and p50/p99 per call per minute.
          --soak-minutes N            how long the load runs (default 30, 1..1440)
          --soak-agents N             agents joined and heartbeating (default 5000, 1..100000)
          --soak-heartbeat-seconds N  each agent's heartbeat interval; its TTL is three times that (default 10, 1..600)
          --soak-streams N            agents (of those) holding command streams and acking (default 100, 0..10000)
          --soak-steer-rate N         steers per second to the streaming agents (default 20, 0..10000)
          --soak-kills-per-minute N   forced kills per minute of the other agents (default 30, 0..60000)
        """;

    /// <summary>Measured window of each scenario.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Time per scenario in the warm-up round, which runs every scenario once, unmeasured, before the first
    /// measurement: the JIT's tiers and dynamic PGO take seconds under load to reach steady state (in every process).
    /// </summary>
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Unmeasured lead-in of each measured scenario: connections are open, the previous scenario's work drains.</summary>
    public static TimeSpan LeadIn => TimeSpan.FromSeconds(1);

    /// <summary>The connection counts every closed-loop scenario runs at, in order.</summary>
    public IReadOnlyList<int> Connections { get; init; } = [16, 64];

    public int Sessions { get; init; } = 500;

    public int Streams { get; init; } = 50;

    public int Writes { get; init; } = 200;

    public int Agents { get; init; } = 2000;

    public long MaxRequestsPerWorker { get; init; } = 1_000_000;

    public string? ServerDll { get; init; }

    /// <summary>Where row 1 of the scale run writes each steer's start and latency; null: nowhere.</summary>
    public string? ScaleSteerLog { get; init; }

    public string? BaselineDll { get; init; }

    /// <summary>The etcd binary; null to look for <c>etcd</c> on PATH, "none" to skip the peer rows.</summary>
    public string? Etcd { get; init; }

    /// <summary>"default" (the closed-loop tables) or "scale" (the scale targets: <see cref="ScaleBench"/>).</summary>
    public string Scenario { get; init; } = "default";

    public bool IsScale => Scenario == "scale";

    public bool IsSoak => Scenario == "soak";

    public bool IsReplicas => Scenario == "replicas";

    /// <summary>The PostgreSQL database (a connection string) the replicas scenario runs its three servers on.</summary>
    public string? Postgres { get; init; }

    public int SoakMinutes { get; init; } = 30;

    public int SoakAgents { get; init; } = 5000;

    public int SoakHeartbeatSeconds { get; init; } = 10;

    public int SoakStreams { get; init; } = 100;

    public int SoakSteerRate { get; init; } = 20;

    public int SoakKillsPerMinute { get; init; } = 30;

    public int ScaleSessions { get; init; } = 100_000;

    public int ScaleStreams { get; init; } = 10_000;

    public int ScaleSteerRate { get; init; } = 1000;

    public TimeSpan ScaleSteerTime { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Streams of the optional second RSS reading; 0 leaves it out.</summary>
    public int ScaleRssStreams { get; init; }

    public int ScaleExpiryTtl { get; init; } = 10;

    public int ScaleWatchers { get; init; } = 2000;

    public int ScaleAliveRequests { get; init; } = 300;

    public int ScaleParallelism { get; init; } = 64;

    /// <summary>Processes holding row 1's command streams (0: the generator itself).</summary>
    public int ScaleStreamHosts { get; init; } = 4;

    public TimeSpan ScaleBudget { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>A hard ceiling on the whole run: far above what the scenarios need, so only a hang reaches it (the scale run's is an option).</summary>
    public TimeSpan Budget => IsScale ? ScaleBudget : IsSoak ? TimeSpan.FromMinutes(SoakMinutes + 10) : TimeSpan.FromMinutes(8) + (Duration + Warmup + LeadIn) * (12 * Connections.Count + 4);

    /// <summary>The options, or null with <paramref name="error"/> set (empty for --help).</summary>
    public static LoadGenOptions? Parse(IReadOnlyList<string> args, out string? error)
    {
        var options = new LoadGenOptions();
        error = null;
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            if (name is "--help" or "-h")
            {
                error = "";
                return null;
            }
            if (i + 1 >= args.Count)
            {
                error = $"{name} needs a value.";
                return null;
            }
            var value = args[++i];
            switch (name)
            {
                case "--server-dll":
                    options = options with { ServerDll = value };
                    continue;
                case "--baseline-dll":
                    options = options with { BaselineDll = value };
                    continue;
                case "--etcd":
                    options = options with { Etcd = value };
                    continue;
                case "--scale-steer-log":
                    options = options with { ScaleSteerLog = Path.GetFullPath(value) };
                    continue;
                case "--postgres":
                    options = options with { Postgres = value };
                    continue;
                case "--scenario" when value is "default" or "scale" or "soak" or "replicas":
                    options = options with { Scenario = value };
                    continue;
                case "--scenario":
                    error = $"--scenario: '{value}' is not default, scale, soak or replicas.";
                    return null;
                case "--connections":
                    var counts = value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
                    var parsed = counts.Select(c => int.TryParse(c, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= 512 ? n : 0).ToList();
                    if (parsed.Count is 0 or > 8 || parsed.Contains(0))
                    {
                        error = $"--connections: '{value}' is not a list of 1 to 8 counts, each 1..512.";
                        return null;
                    }
                    options = options with { Connections = parsed };
                    continue;
            }
            if (!long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
            {
                error = $"{name}: '{value}' is not a whole number.";
                return null;
            }
            switch (name)
            {
                case "--duration" when number is >= 1 and <= 600:
                    options = options with { Duration = TimeSpan.FromSeconds(number) };
                    break;
                case "--warmup" when number is >= 0 and <= 60:
                    options = options with { Warmup = TimeSpan.FromSeconds(number) };
                    break;
                case "--sessions" when number is >= 1 and <= 100_000:
                    options = options with { Sessions = (int)number };
                    break;
                case "--streams" when number is >= 1 and <= 2000:
                    options = options with { Streams = (int)number };
                    break;
                case "--writes" when number is >= 1 and <= 10_000:
                    options = options with { Writes = (int)number };
                    break;
                case "--agents" when number is >= 0 and <= 10_000:
                    options = options with { Agents = (int)number };
                    break;
                case "--max-requests" when number is >= 1 and <= 100_000_000:
                    options = options with { MaxRequestsPerWorker = number };
                    break;
                case "--scale-sessions" when number is >= 1 and <= 1_000_000:
                    options = options with { ScaleSessions = (int)number };
                    break;
                case "--scale-streams" when number is >= 1 and <= 200_000:
                    options = options with { ScaleStreams = (int)number };
                    break;
                case "--scale-steer-rate" when number is >= 1 and <= 100_000:
                    options = options with { ScaleSteerRate = (int)number };
                    break;
                case "--scale-steer-seconds" when number is >= 1 and <= 600:
                    options = options with { ScaleSteerTime = TimeSpan.FromSeconds(number) };
                    break;
                case "--scale-rss-streams" when number is >= 0 and <= 200_000:
                    options = options with { ScaleRssStreams = (int)number };
                    break;
                case "--scale-expiry-ttl" when number is >= 1 and <= 3600:
                    options = options with { ScaleExpiryTtl = (int)number };
                    break;
                case "--scale-watchers" when number is >= 1 and <= 100_000:
                    options = options with { ScaleWatchers = (int)number };
                    break;
                case "--scale-alive-requests" when number is >= 1 and <= 100_000:
                    options = options with { ScaleAliveRequests = (int)number };
                    break;
                case "--scale-parallelism" when number is >= 1 and <= 1024:
                    options = options with { ScaleParallelism = (int)number };
                    break;
                case "--scale-stream-hosts" when number is >= 0 and <= 64:
                    options = options with { ScaleStreamHosts = (int)number };
                    break;
                case "--scale-budget" when number is >= 1 and <= 180:
                    options = options with { ScaleBudget = TimeSpan.FromMinutes(number) };
                    break;
                case "--soak-minutes" when number is >= 1 and <= 1440:
                    options = options with { SoakMinutes = (int)number };
                    break;
                case "--soak-agents" when number is >= 1 and <= 100_000:
                    options = options with { SoakAgents = (int)number };
                    break;
                case "--soak-heartbeat-seconds" when number is >= 1 and <= 600:
                    options = options with { SoakHeartbeatSeconds = (int)number };
                    break;
                case "--soak-streams" when number is >= 0 and <= 10_000:
                    options = options with { SoakStreams = (int)number };
                    break;
                case "--soak-steer-rate" when number is >= 0 and <= 10_000:
                    options = options with { SoakSteerRate = (int)number };
                    break;
                case "--soak-kills-per-minute" when number is >= 0 and <= 60_000:
                    options = options with { SoakKillsPerMinute = (int)number };
                    break;
                case "--soak-minutes" or "--soak-agents" or "--soak-heartbeat-seconds" or "--soak-streams" or "--soak-steer-rate" or "--soak-kills-per-minute":
                    error = $"{name}: {value} is out of range (see --help).";
                    return null;
                case "--duration" or "--warmup" or "--sessions" or "--streams" or "--writes" or "--agents" or "--max-requests"
                    or "--scale-sessions" or "--scale-streams" or "--scale-steer-rate" or "--scale-steer-seconds" or "--scale-rss-streams"
                    or "--scale-expiry-ttl" or "--scale-watchers" or "--scale-alive-requests" or "--scale-parallelism" or "--scale-stream-hosts" or "--scale-budget":
                    error = $"{name}: {value} is out of range (see --help).";
                    return null;
                default:
                    error = $"Unknown option '{name}'.";
                    return null;
            }
        }
        return options;
    }

    /// <summary>The command line that reproduces this run.</summary>
    public string CommandLine() => IsReplicas ? string.Create(CultureInfo.InvariantCulture,
        $"dotnet run -c Release --project bench/SessionMesh.LoadGen -- --scenario replicas --postgres \"Host=...\" --duration {Duration.TotalSeconds} --warmup {Warmup.TotalSeconds} --connections {string.Join(',', Connections)} --sessions {Sessions} --writes {Writes}")
        : IsSoak ? string.Create(CultureInfo.InvariantCulture,
        $"dotnet run -c Release --project bench/SessionMesh.LoadGen -- --scenario soak --soak-minutes {SoakMinutes} --soak-agents {SoakAgents} --soak-heartbeat-seconds {SoakHeartbeatSeconds} --soak-streams {SoakStreams} --soak-steer-rate {SoakSteerRate} --soak-kills-per-minute {SoakKillsPerMinute}")
        : IsScale ? string.Create(CultureInfo.InvariantCulture,
        $"dotnet run -c Release --project bench/SessionMesh.LoadGen -- --scenario scale --duration {Duration.TotalSeconds} --warmup {Warmup.TotalSeconds} --scale-sessions {ScaleSessions} --scale-streams {ScaleStreams} --scale-steer-rate {ScaleSteerRate} --scale-steer-seconds {ScaleSteerTime.TotalSeconds} --scale-rss-streams {ScaleRssStreams} --scale-expiry-ttl {ScaleExpiryTtl} --scale-watchers {ScaleWatchers} --scale-alive-requests {ScaleAliveRequests} --scale-parallelism {ScaleParallelism} --scale-stream-hosts {ScaleStreamHosts} --scale-budget {ScaleBudget.TotalMinutes}")
        : string.Create(CultureInfo.InvariantCulture,
        $"dotnet run -c Release --project bench/SessionMesh.LoadGen -- --duration {Duration.TotalSeconds} --warmup {Warmup.TotalSeconds} --connections {string.Join(',', Connections)} --sessions {Sessions} --streams {Streams} --writes {Writes} --agents {Agents}{(Etcd is null ? "" : " --etcd " + Etcd)}");
}
