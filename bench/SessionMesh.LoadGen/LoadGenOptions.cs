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

          --duration SECONDS    measured window of each scenario (default 5, 1..600)
          --warmup SECONDS      per scenario, in a warm-up round run before anything is measured (default 2, 0..60)
          --connections LIST    closed-loop workers, one connection each, e.g. 16,64 (default 16,64; each 1..512)
          --sessions N          sessions (and etcd leases) the heartbeat (keepalive) scenario cycles through (default 500, 1..100000)
          --streams N           agents holding SSE command streams for the steer scenario (default 50, 1..2000)
          --writes N            writes timed from write to watcher, per watch scenario (default 200, 1..10000)
          --agents N            agents joined, then streaming, for the memory probe (default 2000, 0..10000)
          --max-requests N      cap on requests per worker per scenario (default 1000000)
          --server-dll PATH     session-mesh.dll to run (default: src/SessionMesh.Cli's build in the bench's configuration)
          --baseline-dll PATH   SessionMesh.Baseline.dll to run (default: its build in the bench's configuration)
          --etcd PATH|none      etcd binary for the peer rows (default: `etcd` on PATH; rows skipped when absent)
          --help                this text
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

    public string? BaselineDll { get; init; }

    /// <summary>The etcd binary; null to look for <c>etcd</c> on PATH, "none" to skip the peer rows.</summary>
    public string? Etcd { get; init; }

    /// <summary>A hard ceiling on the whole run: far above what the scenarios need, so only a hang reaches it.</summary>
    public TimeSpan Budget => TimeSpan.FromMinutes(8) + (Duration + Warmup + LeadIn) * (12 * Connections.Count + 4);

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
                case "--duration" or "--warmup" or "--sessions" or "--streams" or "--writes" or "--agents" or "--max-requests":
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
    public string CommandLine() => string.Create(CultureInfo.InvariantCulture,
        $"dotnet run -c Release --project bench/SessionMesh.LoadGen -- --duration {Duration.TotalSeconds} --warmup {Warmup.TotalSeconds} --connections {string.Join(',', Connections)} --sessions {Sessions} --streams {Streams} --writes {Writes} --agents {Agents}{(Etcd is null ? "" : " --etcd " + Etcd)}");
}
