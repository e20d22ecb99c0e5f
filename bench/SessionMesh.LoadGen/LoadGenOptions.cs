using System.Globalization;

namespace SessionMesh.LoadGen;

/// <summary>The load generator's command line; every loop it drives is bounded by these numbers.</summary>
internal sealed record LoadGenOptions
{
    public const string Usage = """
        Usage: dotnet run -c Release --project bench/SessionMesh.LoadGen -- [options]

        Starts session-mesh in-process on 127.0.0.1 with a fresh temp SQLite store, drives it with
        closed-loop HTTP workers and prints a markdown table (progress goes to stderr).

          --duration SECONDS   measured window of each scenario (default 5, 1..600)
          --warmup SECONDS     per scenario, in a warm-up round run before anything is measured (default 2, 0..60)
          --workers N          concurrent HTTP workers (default 16, 1..512)
          --sessions N         joined sessions the heartbeat scenario cycles through (default 500, 1..100000)
          --streams N          agents holding SSE command streams for the steer scenario (default 50, 1..2000)
          --agents N           agents joined, then streaming, for the memory probe (default 2000, 0..10000)
          --max-requests N     cap on requests per worker per scenario (default 1000000)
          --help               this text
        """;

    /// <summary>Measured window of each scenario.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Time per scenario in the warm-up round, which runs every scenario once, unmeasured, before the first
    /// measurement: the JIT's tiers and dynamic PGO take seconds under load to reach steady state.
    /// </summary>
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Unmeasured lead-in of each measured scenario: connections are open, the previous scenario's work drains.</summary>
    public static TimeSpan LeadIn => TimeSpan.FromSeconds(1);

    public int Workers { get; init; } = 16;

    public int Sessions { get; init; } = 500;

    public int Streams { get; init; } = 50;

    public int Agents { get; init; } = 2000;

    public long MaxRequestsPerWorker { get; init; } = 1_000_000;

    /// <summary>A hard ceiling on the whole run: far above what the scenarios need, so only a hang reaches it.</summary>
    public TimeSpan Budget => TimeSpan.FromMinutes(5) + (Duration + Warmup + LeadIn) * 10;

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
                case "--workers" when number is >= 1 and <= 512:
                    options = options with { Workers = (int)number };
                    break;
                case "--sessions" when number is >= 1 and <= 100_000:
                    options = options with { Sessions = (int)number };
                    break;
                case "--streams" when number is >= 1 and <= 2000:
                    options = options with { Streams = (int)number };
                    break;
                case "--agents" when number is >= 0 and <= 10_000:
                    options = options with { Agents = (int)number };
                    break;
                case "--max-requests" when number is >= 1 and <= 100_000_000:
                    options = options with { MaxRequestsPerWorker = number };
                    break;
                case "--duration" or "--warmup" or "--workers" or "--sessions" or "--streams" or "--agents" or "--max-requests":
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
        $"dotnet run -c Release --project bench/SessionMesh.LoadGen -- --duration {Duration.TotalSeconds} --warmup {Warmup.TotalSeconds} --workers {Workers} --sessions {Sessions} --streams {Streams} --agents {Agents}");
}
